package main

// p2p: block-gossip vectors from op-node v1.19.6's p2p package and op-service, for pyop/p2p:
//
//   - encodings: execution payloads of every block version (V1 Bedrock, V2 Canyon withdrawals,
//     V3 Ecotone envelope, V4 Isthmus withdrawalsRoot), with op-service's SSZ bytes
//     (ExecutionPayload.MarshalSSZ / ExecutionPayloadEnvelope.MarshalSSZ), the payload hash,
//     the signing hash (signer.BlockSigningMessage.ToSigningHash), the LocalSigner signature,
//     the snappy-compressed gossip data and its message id (p2p.BuildMsgIdFn);
//   - validation: a sequence of gossip messages fed to p2p.BuildBlocksValidator (one validator
//     per block version and signer setting, a deterministic clock) and the ACCEPT / IGNORE /
//     REJECT outcome of each, in order (the validator remembers the blocks it saw);
//   - messageIds: p2p.BuildMsgIdFn on data that is not valid snappy;
//   - identity: the libp2p peer ID and discv5 node ID of a network key;
//   - signerRequest: the JSON of the op-signer request (signer.BlockPayloadArgs) for a block;
//   - scoring: op-node's "light" peer-score and application-score parameters for a block time;
//   - gossipParams: p2p.BuildGlobalGossipParams (mesh degrees, heartbeat, fanout TTL, history).

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/big"
	"math/rand"
	"time"

	"github.com/golang/snappy"
	"github.com/holiman/uint256"
	pubsub "github.com/libp2p/go-libp2p-pubsub"
	pb "github.com/libp2p/go-libp2p-pubsub/pb"
	lcrypto "github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/ethereum-optimism/optimism/op-node/p2p"
	"github.com/ethereum-optimism/optimism/op-node/rollup"
	"github.com/ethereum-optimism/optimism/op-service/clock"
	"github.com/ethereum-optimism/optimism/op-service/eth"
	opsigner "github.com/ethereum-optimism/optimism/op-service/signer"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/log"
	"github.com/ethereum/go-ethereum/p2p/enode"
)

const (
	p2pChainID   = 901
	p2pNow       = 1_800_000_000
	p2pJovianAt  = p2pNow + 3 // Jovian active for timestamps >= now+3
	p2pSeqKeyHex = "7c852118294e51e653712a81e05800f419141751be58f605c371e15141b007a6"
	p2pBadKeyHex = "59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d"
	p2pNetKeyHex = "ac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"
)

type p2pRuntimeCfg struct{ cur, prev common.Address }

func (r *p2pRuntimeCfg) P2PSequencerAddress() common.Address         { return r.cur }
func (r *p2pRuntimeCfg) PreviousP2PSequencerAddress() common.Address { return r.prev }
func (r *p2pRuntimeCfg) ConfirmCurrentSigner()                       {}

type p2pGossipConf struct{}

func (p2pGossipConf) PeerScoringParams() *p2p.ScoringParams            { return nil }
func (p2pGossipConf) ConfigureGossip(_ *rollup.Config) []pubsub.Option { return nil }
func (p2pGossipConf) GetGossipTimestampThreshold() time.Duration       { return 60 * time.Second }

type p2pEncoding struct {
	Name        string                        `json:"name"`
	Version     int                           `json:"version"`
	Envelope    *eth.ExecutionPayloadEnvelope `json:"envelope"`
	SSZ         string                        `json:"ssz"`
	PayloadHash string                        `json:"payloadHash"`
	SigningHash string                        `json:"signingHash"`
	Signature   string                        `json:"signature"`
	Message     string                        `json:"message"`
	MessageID   string                        `json:"messageId"`
	Topic       string                        `json:"topic"`
}

type p2pValidation struct {
	Name    string `json:"name"`
	Version int    `json:"version"`
	Topic   string `json:"topic"`
	Data    string `json:"data"`
	Signer  string `json:"signer"`
	Prev    string `json:"previousSigner,omitempty"`
	Outcome string `json:"outcome"`
}

type p2pMsgID struct {
	Topic string `json:"topic"`
	Data  string `json:"data"`
	ID    string `json:"messageId"`
}

func p2pTopic(v eth.BlockVersion) string {
	return fmt.Sprintf("/optimism/%d/%d/blocks", p2pChainID, int(v))
}

func randHash(r *rand.Rand) common.Hash {
	var h common.Hash
	r.Read(h[:])
	return h
}

// p2pPayload builds an envelope of block version v with a valid block hash.
func p2pPayload(r *rand.Rand, v eth.BlockVersion, number, ts uint64, ntx int) *eth.ExecutionPayloadEnvelope {
	p := &eth.ExecutionPayload{
		ParentHash:   randHash(r),
		FeeRecipient: common.HexToAddress("0x4200000000000000000000000000000000000011"),
		StateRoot:    eth.Bytes32(randHash(r)),
		ReceiptsRoot: eth.Bytes32(randHash(r)),
		PrevRandao:   eth.Bytes32(randHash(r)),
		BlockNumber:  eth.Uint64Quantity(number),
		GasLimit:     eth.Uint64Quantity(30_000_000 + r.Intn(1000)),
		GasUsed:      eth.Uint64Quantity(46_000 + r.Intn(100_000)),
		Timestamp:    eth.Uint64Quantity(ts),
		ExtraData:    eth.BytesMax32{},
	}
	r.Read(p.LogsBloom[:])
	(*uint256.Int)(&p.BaseFeePerGas).SetUint64(uint64(1_000_000 + r.Intn(1_000_000_000)))
	if v == eth.BlockV4 || r.Intn(2) == 0 {
		p.ExtraData = eth.BytesMax32{0, 0, 0, 0, 250, 0, 0, 0, 6}
	}
	for i := 0; i < ntx; i++ {
		tx := make([]byte, 40+r.Intn(300))
		r.Read(tx)
		tx[0] = byte(r.Intn(3)) + 0x7e // deposit, legacy-looking or typed, the validator does not decode txs
		p.Transactions = append(p.Transactions, tx)
	}
	env := &eth.ExecutionPayloadEnvelope{ExecutionPayload: p}
	if v >= eth.BlockV2 {
		p.Withdrawals = &types.Withdrawals{}
	}
	if v >= eth.BlockV3 {
		zero := eth.Uint64Quantity(0)
		z2 := eth.Uint64Quantity(0)
		p.BlobGasUsed, p.ExcessBlobGas = &zero, &z2
		root := randHash(r)
		env.ParentBeaconBlockRoot = &root
	}
	if v >= eth.BlockV4 {
		wr := randHash(r)
		p.WithdrawalsRoot = &wr
	}
	fixHash(env)
	return env
}

func fixHash(env *eth.ExecutionPayloadEnvelope) {
	actual, _ := env.CheckBlockHash()
	env.ExecutionPayload.BlockHash = actual
}

func sszOf(env *eth.ExecutionPayloadEnvelope) []byte {
	var buf bytesBuffer
	if env.ParentBeaconBlockRoot != nil {
		if _, err := env.MarshalSSZ(&buf); err != nil {
			panic(err)
		}
	} else if _, err := env.ExecutionPayload.MarshalSSZ(&buf); err != nil {
		panic(err)
	}
	return buf.b
}

type bytesBuffer struct{ b []byte }

func (w *bytesBuffer) Write(p []byte) (int, error) { w.b = append(w.b, p...); return len(p), nil }

func signBlock(keyHex string, chainID uint64, payload []byte) []byte {
	key, err := crypto.HexToECDSA(keyHex)
	if err != nil {
		panic(err)
	}
	s := opsigner.NewLocalSigner(key)
	sig, err := s.SignBlockV1(context.Background(), eth.ChainIDFromUInt64(chainID), opsigner.PayloadHash(payload))
	if err != nil {
		panic(err)
	}
	return sig[:]
}

// gossipData: snappy(signature ++ ssz), signed by keyHex for chainID.
func gossipData(keyHex string, chainID uint64, env *eth.ExecutionPayloadEnvelope) []byte {
	ssz := sszOf(env)
	return snappy.Encode(nil, append(signBlock(keyHex, chainID, ssz), ssz...))
}

func addrOf(keyHex string) common.Address {
	key, err := crypto.HexToECDSA(keyHex)
	if err != nil {
		panic(err)
	}
	return crypto.PubkeyToAddress(key.PublicKey)
}

func p2pRollupConfig() *rollup.Config {
	zero := uint64(0)
	jov := uint64(p2pJovianAt)
	return &rollup.Config{
		L2ChainID:    big.NewInt(p2pChainID),
		BlockTime:    2,
		RegolithTime: &zero, CanyonTime: &zero, DeltaTime: &zero, EcotoneTime: &zero,
		FjordTime: &zero, GraniteTime: &zero, HoloceneTime: &zero, IsthmusTime: &zero,
		JovianTime: &jov,
	}
}

func validationResult(v pubsub.ValidationResult) string {
	switch v {
	case pubsub.ValidationAccept:
		return "ACCEPT"
	case pubsub.ValidationIgnore:
		return "IGNORE"
	case pubsub.ValidationReject:
		return "REJECT"
	}
	return fmt.Sprintf("UNKNOWN_%d", v)
}

func p2pVectors() any {
	cfg := p2pRollupConfig()
	msgID := p2p.BuildMsgIdFn(cfg)
	r := rand.New(rand.NewSource(14))

	// --- encodings
	var encs []p2pEncoding
	for _, c := range []struct {
		name string
		v    eth.BlockVersion
		ntx  int
	}{
		{"v1-empty", eth.BlockV1, 0}, {"v1-txs", eth.BlockV1, 3},
		{"v2-empty", eth.BlockV2, 0}, {"v2-txs", eth.BlockV2, 2},
		{"v3-deposit-only", eth.BlockV3, 1}, {"v3-txs", eth.BlockV3, 5},
		{"v4-deposit-only", eth.BlockV4, 1}, {"v4-txs", eth.BlockV4, 4},
	} {
		env := p2pPayload(r, c.v, uint64(100+len(encs)), p2pNow, c.ntx)
		ssz := sszOf(env)
		ph := opsigner.PayloadHash(ssz)
		msg := opsigner.BlockSigningMessage{Domain: opsigner.SigningDomainBlocksV1, ChainID: eth.ChainIDFromUInt64(p2pChainID), PayloadHash: ph}
		sh := msg.ToSigningHash()
		data := gossipData(p2pSeqKeyHex, p2pChainID, env)
		topic := p2pTopic(c.v)
		encs = append(encs, p2pEncoding{
			Name: c.name, Version: int(c.v), Envelope: env, SSZ: hex.EncodeToString(ssz),
			PayloadHash: ph.Hex(), SigningHash: sh.Hex(), Signature: hex.EncodeToString(signBlock(p2pSeqKeyHex, p2pChainID, ssz)),
			Message: hex.EncodeToString(data), Topic: topic,
			MessageID: hex.EncodeToString([]byte(msgID(&pb.Message{Data: data, Topic: &topic}))),
		})
	}

	// --- validation sequences
	seq := addrOf(p2pSeqKeyHex)
	bad := addrOf(p2pBadKeyHex)
	clk := clock.NewDeterministicClock(time.Unix(p2pNow, 0))
	lg := log.NewLogger(log.DiscardHandler())
	type vkey struct {
		v         eth.BlockVersion
		cur, prev common.Address
	}
	validators := map[vkey]pubsub.ValidatorEx{}
	var vals []p2pValidation
	check := func(name string, v eth.BlockVersion, cur, prev common.Address, data []byte) {
		k := vkey{v, cur, prev}
		fn, ok := validators[k]
		if !ok {
			fn = p2p.BuildBlocksValidator(lg, cfg, &p2pRuntimeCfg{cur: cur, prev: prev}, v, p2pGossipConf{}, clk)
			validators[k] = fn
		}
		topic := p2pTopic(v)
		res := fn(context.Background(), peer.ID("remote"), &pubsub.Message{Message: &pb.Message{Data: data, Topic: &topic}})
		pv := p2pValidation{Name: name, Version: int(v), Topic: topic, Data: hex.EncodeToString(data),
			Signer: cur.Hex(), Outcome: validationResult(res)}
		if prev != (common.Address{}) {
			pv.Prev = prev.Hex()
		}
		vals = append(vals, pv)
	}
	none := common.Address{}
	num := uint64(1000)
	next := func() uint64 { num++; return num }
	for _, v := range []eth.BlockVersion{eth.BlockV1, eth.BlockV2, eth.BlockV3, eth.BlockV4} {
		vs := fmt.Sprintf("v%d", int(v)+1)
		env := p2pPayload(r, v, next(), p2pNow, 2)
		good := gossipData(p2pSeqKeyHex, p2pChainID, env)
		check(vs+"-valid", v, seq, none, good)
		check(vs+"-valid-again", v, seq, none, good)
		// the same block with a second, equally valid signature (s -> n-s): a new message id,
		// the same block hash -> already seen
		raw, _ := snappy.Decode(nil, good)
		mall := append([]byte{}, raw...)
		sv := new(big.Int).SetBytes(mall[32:64])
		sv.Sub(crypto.S256().Params().N, sv)
		sv.FillBytes(mall[32:64])
		mall[64] ^= 1
		check(vs+"-malleated-signature-seen-block", v, seq, none, snappy.Encode(nil, mall))
		// the same block signed by another key: op-node checks the signature before the seen
		// blocks (the spec lists it last, which would IGNORE this one)
		ssz0 := raw[65:]
		check(vs+"-seen-block-wrong-signer", v, seq, none, snappy.Encode(nil, append(signBlock(p2pBadKeyHex, p2pChainID, ssz0), ssz0...)))
		check(vs+"-no-signer-configured", v, none, none, gossipData(p2pSeqKeyHex, p2pChainID, p2pPayload(r, v, next(), p2pNow, 1)))
		check(vs+"-wrong-signer", v, seq, none, gossipData(p2pBadKeyHex, p2pChainID, p2pPayload(r, v, next(), p2pNow, 1)))
		check(vs+"-wrong-chain-id", v, seq, none, gossipData(p2pSeqKeyHex, 10, p2pPayload(r, v, next(), p2pNow, 1)))
		check(vs+"-previous-signer-in-grace", v, seq, bad, gossipData(p2pBadKeyHex, p2pChainID, p2pPayload(r, v, next(), p2pNow, 1)))
		check(vs+"-too-old", v, seq, none, gossipData(p2pSeqKeyHex, p2pChainID, p2pPayload(r, v, next(), p2pNow-61, 1)))
		check(vs+"-oldest-allowed", v, seq, none, gossipData(p2pSeqKeyHex, p2pChainID, p2pPayload(r, v, next(), p2pNow-60, 1)))
		check(vs+"-future", v, seq, none, gossipData(p2pSeqKeyHex, p2pChainID, p2pPayload(r, v, next(), p2pNow+6, 1)))
		if v < eth.BlockV3 { // Jovian's blob-gas exception matters on V3+ only
			check(vs+"-newest-allowed", v, seq, none, gossipData(p2pSeqKeyHex, p2pChainID, p2pPayload(r, v, next(), p2pNow+5, 1)))
		}
		e := p2pPayload(r, v, next(), p2pNow, 1)
		e.ExecutionPayload.BlockHash[0] ^= 1
		check(vs+"-bad-block-hash", v, seq, none, gossipData(p2pSeqKeyHex, p2pChainID, e))
		ssz := sszOf(p2pPayload(r, v, next(), p2pNow, 2))
		trunc := ssz[:len(ssz)-3]
		check(vs+"-truncated-ssz", v, seq, none, snappy.Encode(nil, append(signBlock(p2pSeqKeyHex, p2pChainID, trunc), trunc...)))
		check(vs+"-bad-snappy", v, seq, none, []byte{0xff, 0xff, 0xff, 0xff, 0x0f, 1, 2, 3})
		check(vs+"-undersized", v, seq, none, snappy.Encode(nil, make([]byte, 65)))
		// the snappy length header alone claims more than 10 MiB
		check(vs+"-zip-bomb-header", v, seq, none, []byte{0x81, 0x80, 0x80, 0x05, 0x00})
		// six different blocks at one height are accepted, the seventh is rejected
		h := next()
		for i := 0; i < 7; i++ {
			check(fmt.Sprintf("%s-height-%d-block-%d", vs, h, i+1), v, seq, none,
				gossipData(p2pSeqKeyHex, p2pChainID, p2pPayload(r, v, h, p2pNow, 1)))
		}
		if v == eth.BlockV2 {
			e := p2pPayload(r, v, next(), p2pNow, 1)
			e.ExecutionPayload.Withdrawals = &types.Withdrawals{{Index: 1, Validator: 2, Address: common.Address{3}, Amount: 4}}
			fixHash(e)
			check(vs+"-non-empty-withdrawals", v, seq, none, gossipData(p2pSeqKeyHex, p2pChainID, e))
		}
		if v >= eth.BlockV3 {
			for _, c := range []struct {
				name      string
				ts        uint64
				used, exc uint64
			}{
				{"-blob-gas-used-pre-jovian", p2pNow, 1000, 0},
				{"-blob-gas-used-jovian", p2pJovianAt, 1000, 0},
				{"-excess-blob-gas", p2pNow, 0, 7},
			} {
				e := p2pPayload(r, v, next(), c.ts, 1)
				u, x := eth.Uint64Quantity(c.used), eth.Uint64Quantity(c.exc)
				e.ExecutionPayload.BlobGasUsed, e.ExecutionPayload.ExcessBlobGas = &u, &x
				fixHash(e)
				check(vs+c.name, v, seq, none, gossipData(p2pSeqKeyHex, p2pChainID, e))
			}
		}
	}
	// a block of one version on another version's topic
	cross := func(name string, enc, topic eth.BlockVersion) {
		check(name, topic, seq, none, gossipData(p2pSeqKeyHex, p2pChainID, p2pPayload(r, enc, next(), p2pNow, 2)))
	}
	cross("v2-block-on-v1-topic", eth.BlockV2, eth.BlockV1)
	cross("v1-block-on-v2-topic", eth.BlockV1, eth.BlockV2)
	cross("v3-block-on-v4-topic", eth.BlockV3, eth.BlockV4)
	cross("v4-block-on-v3-topic", eth.BlockV4, eth.BlockV3)
	cross("v2-block-on-v3-topic", eth.BlockV2, eth.BlockV3)

	// --- message ids of data that is not valid snappy
	var ids []p2pMsgID
	for _, d := range [][]byte{{}, {0xff}, []byte("not snappy at all"), {0x81, 0x80, 0x80, 0x05, 0x00}} {
		topic := p2pTopic(eth.BlockV4)
		ids = append(ids, p2pMsgID{Topic: topic, Data: hex.EncodeToString(d),
			ID: hex.EncodeToString([]byte(msgID(&pb.Message{Data: d, Topic: &topic})))})
	}

	// --- identity
	keyBytes, _ := hex.DecodeString(p2pNetKeyHex)
	priv, err := lcrypto.UnmarshalSecp256k1PrivateKey(keyBytes)
	if err != nil {
		panic(err)
	}
	pid, err := peer.IDFromPrivateKey(priv)
	if err != nil {
		panic(err)
	}
	ecKey, _ := crypto.HexToECDSA(p2pNetKeyHex)

	// --- scoring parameters
	scoring := map[string]any{}
	for _, bt := range []uint64{1, 2, 12} {
		ps := p2p.LightPeerScoreParams(bt)
		as := p2p.LightApplicationScoreParams(bt)
		scoring[fmt.Sprint(bt)] = map[string]any{
			"behaviourPenaltyDecay": ps.BehaviourPenaltyDecay, "decayInterval": ps.DecayInterval.Seconds(),
			"retainScore": ps.RetainScore.Seconds(), "validResponseDecay": as.ValidResponseDecay,
			"errorResponseDecay": as.ErrorResponseDecay, "rejectedPayloadDecay": as.RejectedPayloadDecay,
			"ipColocationFactorWeight": ps.IPColocationFactorWeight, "ipColocationFactorThreshold": ps.IPColocationFactorThreshold,
			"behaviourPenaltyWeight": ps.BehaviourPenaltyWeight, "behaviourPenaltyThreshold": ps.BehaviourPenaltyThreshold,
		}
	}
	th := p2p.NewPeerScoreThresholds()
	gp := p2p.BuildGlobalGossipParams(cfg)
	gossipParams := map[string]any{"D": gp.D, "Dlo": gp.Dlo, "Dhi": gp.Dhi, "Dlazy": gp.Dlazy,
		"heartbeatIntervalMs": gp.HeartbeatInterval.Milliseconds(), "fanoutTTLSeconds": gp.FanoutTTL.Seconds(),
		"historyLength": gp.HistoryLength, "historyGossip": gp.HistoryGossip, "gossipFactor": gp.GossipFactor,
		"pruneBackoffSeconds": gp.PruneBackoff.Seconds(), "unsubscribeBackoffSeconds": gp.UnsubscribeBackoff.Seconds()}

	// --- the op-signer request op-node sends for a block (op-service signer.BlockPayloadArgs,
	// Go's encoding/json: what RemoteSigner.SignBlockV1 puts on the wire)
	sender := addrOf(p2pSeqKeyHex)
	someSSZ, _ := hex.DecodeString(encs[len(encs)-1].SSZ)
	signerArgs, err := json.Marshal(opsigner.NewBlockPayloadArgs(opsigner.SigningDomainBlocksV1, big.NewInt(p2pChainID), someSSZ, &sender))
	if err != nil {
		panic(err)
	}

	return map[string]any{
		"signerRequest": map[string]any{"payloadHash": opsigner.PayloadHash(someSSZ).Hex(), "args": json.RawMessage(signerArgs)},
		"chainId":       p2pChainID, "now": p2pNow, "jovianTime": p2pJovianAt,
		"sequencerKey": p2pSeqKeyHex, "sequencerAddress": seq.Hex(), "otherKey": p2pBadKeyHex, "otherAddress": bad.Hex(),
		"encodings": encs, "validation": vals, "messageIds": ids,
		"identity": map[string]string{"privateKey": p2pNetKeyHex, "peerId": pid.String(),
			"nodeId": enode.PubkeyToIDV4(&ecKey.PublicKey).String()},
		"scoring": scoring, "gossipParams": gossipParams,
		"thresholds": map[string]float64{"gossip": th.GossipThreshold, "publish": th.PublishThreshold,
			"graylist": th.GraylistThreshold, "acceptPX": th.AcceptPXThreshold, "opportunisticGraft": th.OpportunisticGraftThreshold},
	}
}
