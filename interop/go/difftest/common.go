package main

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"os"
	"sync"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/log"
	"github.com/ethereum/go-ethereum/params"

	"github.com/ethereum-optimism/optimism/op-node/rollup"
	"github.com/ethereum-optimism/optimism/op-node/rollup/derive"
	"github.com/ethereum-optimism/optimism/op-service/eth"
)

// M is a JSON object.
type M = map[string]any

var ctx = context.Background()

// quiet is the logger handed to op-node functions: their log lines are not part of the result
// (DIFFTEST_LOG=1 sends them to stderr, to see why op-node decided what it did on one input).
var quiet = func() log.Logger {
	if os.Getenv("DIFFTEST_LOG") != "" {
		return log.NewLogger(log.NewTerminalHandlerWithLevel(os.Stderr, log.LevelTrace, false))
	}
	return log.NewLogger(log.DiscardHandler())
}()

// bigBytes is the length above which byte strings are written as "#<len>:<keccak256>" instead of
// hex (the same rule on pyop's side), to keep responses for maximal channels and blobs small.
const bigBytes = 256

// B is the canonical JSON form of a byte string.
func B(b []byte) string {
	if len(b) > bigBytes {
		return fmt.Sprintf("#%d:%s", len(b), hex.EncodeToString(crypto.Keccak256(b)))
	}
	return hexutil.Encode(b)
}

// Bs maps B over a list.
func Bs[T ~[]byte](xs []T) []string {
	out := make([]string, len(xs))
	for i, x := range xs {
		out[i] = B(x)
	}
	return out
}

// errResp is a result that is an error of a given kind; the message goes to info.
func errResp(kind string, err error) resp {
	return resp{V: M{"err": kind}, Info: M{"msg": err.Error()}}
}

// cfgCache keeps parsed rollup configs by their JSON text: a run uses a small pool of configs.
var cfgCache sync.Map

// rollupConfig parses op-node's rollup.json (as pyop's RollupConfig.to_json writes it).
func rollupConfig(raw json.RawMessage) (*rollup.Config, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, errors.New("missing cfg")
	}
	if c, ok := cfgCache.Load(string(raw)); ok {
		return c.(*rollup.Config), nil
	}
	var cfg rollup.Config
	if err := json.Unmarshal(raw, &cfg); err != nil {
		return nil, fmt.Errorf("rollup config: %w", err)
	}
	cfgCache.Store(string(raw), &cfg)
	return &cfg, nil
}

var l1cfgCache sync.Map

// l1ChainConfig is the L1 chain config: "mainnet" / "sepolia" / "holesky" / "hoodi" select
// go-ethereum's built-in configs (as op-node's NewL1ChainConfig does by L1 chain id), an object
// is a go-ethereum params.ChainConfig JSON (what --rollup.l1-chain-config reads).
func l1ChainConfig(raw json.RawMessage) (*params.ChainConfig, error) {
	if c, ok := l1cfgCache.Load(string(raw)); ok {
		return c.(*params.ChainConfig), nil
	}
	var name string
	var cc *params.ChainConfig
	if err := json.Unmarshal(raw, &name); err == nil {
		switch name {
		case "mainnet":
			cc = params.MainnetChainConfig
		case "sepolia":
			cc = params.SepoliaChainConfig
		case "holesky":
			cc = params.HoleskyChainConfig
		case "hoodi":
			cc = params.HoodiChainConfig
		default:
			return nil, fmt.Errorf("unknown built-in L1 chain config %q", name)
		}
	} else {
		cc = new(params.ChainConfig)
		if err := json.Unmarshal(raw, cc); err != nil {
			return nil, fmt.Errorf("l1 chain config: %w", err)
		}
	}
	l1cfgCache.Store(string(raw), cc)
	return cc, nil
}

// l1Header is the JSON of an L1 block header as the difftest inputs give it. The hash is
// given, not computed: derivation only reads it.
type l1Header struct {
	Hash             common.Hash    `json:"hash"`
	Number           uint64         `json:"number"`
	ParentHash       common.Hash    `json:"parentHash"`
	Timestamp        uint64         `json:"timestamp"`
	BaseFee          *hexutil.Big   `json:"baseFee"`
	MixDigest        common.Hash    `json:"mixDigest"`
	ExcessBlobGas    *uint64        `json:"excessBlobGas"`
	BlobGasUsed      *uint64        `json:"blobGasUsed"`
	ParentBeaconRoot *common.Hash   `json:"parentBeaconRoot"`
	RequestsHash     *common.Hash   `json:"requestsHash"`
	Receipts         []receiptInput `json:"receipts"`
}

// blockInfo is op-service's header-backed eth.BlockInfo with the given hash instead of the
// computed one (everything else, including BlobBaseFee, is op-service's own code).
type blockInfo struct {
	eth.BlockInfo
	hash common.Hash
}

func (b blockInfo) Hash() common.Hash { return b.hash }

func (h *l1Header) info() eth.BlockInfo {
	baseFee := new(big.Int)
	if h.BaseFee != nil {
		baseFee = h.BaseFee.ToInt()
	}
	hdr := &types.Header{
		ParentHash:       h.ParentHash,
		Number:           new(big.Int).SetUint64(h.Number),
		Time:             h.Timestamp,
		BaseFee:          baseFee,
		MixDigest:        h.MixDigest,
		ExcessBlobGas:    h.ExcessBlobGas,
		BlobGasUsed:      h.BlobGasUsed,
		ParentBeaconRoot: h.ParentBeaconRoot,
		RequestsHash:     h.RequestsHash,
		Difficulty:       new(big.Int),
	}
	return blockInfo{BlockInfo: eth.HeaderBlockInfo(hdr), hash: h.Hash}
}

type logInput struct {
	Address   common.Address `json:"address"`
	Topics    []common.Hash  `json:"topics"`
	Data      hexutil.Bytes  `json:"data"`
	BlockHash common.Hash    `json:"blockHash"`
	LogIndex  uint           `json:"logIndex"`
}

type receiptInput struct {
	Status uint64     `json:"status"`
	Logs   []logInput `json:"logs"`
}

func gethReceipts(in []receiptInput) types.Receipts {
	out := make(types.Receipts, len(in))
	for i, r := range in {
		rec := &types.Receipt{Status: r.Status}
		for _, l := range r.Logs {
			rec.Logs = append(rec.Logs, &types.Log{
				Address: l.Address, Topics: l.Topics, Data: l.Data,
				BlockHash: l.BlockHash, Index: l.LogIndex,
			})
		}
		out[i] = rec
	}
	return out
}

// sysCfgJSON is the canonical SystemConfig (all fields, pyop writes the same).
func sysCfgJSON(c eth.SystemConfig) M {
	return M{
		"batcherAddr":          B(c.BatcherAddr[:]),
		"overhead":             B(c.Overhead[:]),
		"scalar":               B(c.Scalar[:]),
		"gasLimit":             c.GasLimit,
		"eip1559Params":        B(c.EIP1559Params[:]),
		"operatorFeeParams":    B(c.OperatorFeeParams[:]),
		"minBaseFee":           c.MinBaseFee,
		"daFootprintGasScalar": c.DAFootprintGasScalar,
	}
}

func singularJSON(b *derive.SingularBatch) M {
	return M{
		"parentHash": B(b.ParentHash[:]),
		"epochNum":   uint64(b.EpochNum),
		"epochHash":  B(b.EpochHash[:]),
		"timestamp":  b.Timestamp,
		"txs":        Bs(b.Transactions),
	}
}

func spanJSON(b *derive.SpanBatch) M {
	elems := make([]M, len(b.Batches))
	for i, e := range b.Batches {
		elems[i] = M{"epochNum": uint64(e.EpochNum), "timestamp": e.Timestamp, "txs": Bs(e.Transactions)}
	}
	return M{"parentCheck": B(b.ParentCheck[:]), "l1OriginCheck": B(b.L1OriginCheck[:]), "elements": elems}
}

// batchJSON is a decoded batch from a channel: {"singular": ...} or {"span": ...}.
func batchJSON(b derive.Batch) M {
	if s, ok := b.AsSingularBatch(); ok {
		return M{"singular": singularJSON(s)}
	}
	if s, ok := b.AsSpanBatch(); ok {
		return M{"span": spanJSON(s)}
	}
	return M{"unknown": b.GetBatchType()}
}

// errClass is the derivation error class op-node's pipeline acts on.
func errClass(err error) string {
	switch {
	case errors.Is(err, derive.ErrCritical):
		return "critical"
	case errors.Is(err, derive.ErrReset):
		return "reset"
	case errors.Is(err, derive.ErrTemporary):
		return "temporary"
	case errors.Is(err, derive.NotEnoughData):
		return "not_enough_data"
	default:
		return "error"
	}
}

// singularInput is a singular batch given as JSON fields.
type singularInput struct {
	ParentHash common.Hash     `json:"parentHash"`
	EpochNum   uint64          `json:"epochNum"`
	EpochHash  common.Hash     `json:"epochHash"`
	Timestamp  uint64          `json:"timestamp"`
	Txs        []hexutil.Bytes `json:"txs"`
}

func (s *singularInput) batch() *derive.SingularBatch {
	return &derive.SingularBatch{
		ParentHash: s.ParentHash, EpochNum: rollup.Epoch(s.EpochNum), EpochHash: s.EpochHash,
		Timestamp: s.Timestamp, Transactions: s.Txs,
	}
}

// batchInput is {"singular": {...}} or {"span": "0x01..."} (span batch bytes with the type byte).
type batchInput struct {
	Singular *singularInput `json:"singular"`
	Span     hexutil.Bytes  `json:"span"`
}

// decode returns the batch, or an error kind ("span_decode" / "span_derive") for span bytes
// that op-node would not have turned into a batch.
func (b *batchInput) decode(cfg *rollup.Config) (derive.Batch, string, error) {
	if b.Singular != nil {
		return b.Singular.batch(), "", nil
	}
	var bd derive.BatchData
	if err := bd.UnmarshalBinary(b.Span); err != nil {
		return nil, "span_decode", err
	}
	if bd.GetBatchType() != derive.SpanBatchType {
		return nil, "span_decode", errors.New("not a span batch")
	}
	sb, err := derive.DeriveSpanBatch(&bd, cfg)
	if err != nil {
		return nil, "span_derive", err
	}
	return sb, "", nil
}

// l2Input is the fake L2 chain behind SafeBlockFetcher: block refs and payloads by number.
type l2Input struct {
	Refs     map[string]eth.L2BlockRef `json:"refs"`
	Payloads map[string]payloadInput   `json:"payloads"`
}

type payloadInput struct {
	BlockHash   common.Hash     `json:"blockHash"`
	ParentHash  common.Hash     `json:"parentHash"`
	BlockNumber uint64          `json:"blockNumber"`
	Timestamp   uint64          `json:"timestamp"`
	Txs         []hexutil.Bytes `json:"txs"`
}

// ErrNotFound is what the fake fetcher returns for an absent block (op-node's fetchers return
// ethereum.NotFound; CheckBatch treats every fetch error alike).
var ErrNotFound = errors.New("not found")

type fakeL2 struct{ in *l2Input }

func (f fakeL2) L2BlockRefByNumber(_ context.Context, n uint64) (eth.L2BlockRef, error) {
	if f.in != nil {
		if r, ok := f.in.Refs[fmt.Sprint(n)]; ok {
			return r, nil
		}
	}
	return eth.L2BlockRef{}, ErrNotFound
}

func (f fakeL2) PayloadByNumber(_ context.Context, n uint64) (*eth.ExecutionPayloadEnvelope, error) {
	if f.in != nil {
		if p, ok := f.in.Payloads[fmt.Sprint(n)]; ok {
			txs := make([]eth.Data, len(p.Txs))
			for i, t := range p.Txs {
				txs[i] = eth.Data(t)
			}
			return &eth.ExecutionPayloadEnvelope{ExecutionPayload: &eth.ExecutionPayload{
				ParentHash: p.ParentHash, BlockHash: p.BlockHash,
				BlockNumber: eth.Uint64Quantity(p.BlockNumber), Timestamp: eth.Uint64Quantity(p.Timestamp),
				Transactions: txs,
			}}, nil
		}
	}
	return nil, ErrNotFound
}
