// Command vectors prints test vectors computed by the Go reference code (op-geth and op-node at the
// versions pinned in ../go.mod), so that pyop's tests compare against values pyop did not compute.
//
//	go run ./vectors blobfees ../../spec_vectors/config/rollup-configs > ../../spec_vectors/l1info/go-v1.19.6-blob-fees.json
//	go run ./vectors upgrades > ../../spec_vectors/upgrades/go-v1.19.6-nut-upgrades.json
//
// blobfees: the L1 blob base fee (op-geth eip4844.CalcBlobFee with op-node's built-in L1 chain
// configs, eth.L1ChainConfigByChainID) for every L1 fork boundary of Ethereum mainnet, Sepolia,
// Holesky and Hoodi and a range of excess-blob-gas values; op-node's Cancun override
// (eth.CalcBlobFeeCancun); and complete L1-info deposits (derive.L1InfoDepositBytes) of OP Mainnet
// and OP Sepolia blocks whose L1 origin is after BPO2 (and, for OP Sepolia, before its
// pectra_blob_schedule_time).
//
// upgrades: the network-upgrade deposits op-node injects from its NUT bundles
// (derive.UpgradeTransactions, derive.LagoonActivationUpgradeTransactions, derive.UpgradeGas):
// for each tx its keccak256 hash, source hash, from, to, gas, mint and data length.
//
// This program is pyop's own; it only calls exported functions of the Go modules.
package main

import (
	"encoding/json"
	"fmt"
	"math/big"
	"os"
	"path/filepath"

	"github.com/ethereum-optimism/optimism/op-core/forks"
	optypes "github.com/ethereum-optimism/optimism/op-core/types"
	"github.com/ethereum-optimism/optimism/op-node/rollup"
	"github.com/ethereum-optimism/optimism/op-node/rollup/derive"
	"github.com/ethereum-optimism/optimism/op-service/eth"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/consensus/misc/eip4844"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/params"
)

type feeCase struct {
	Timestamp     uint64  `json:"timestamp"`
	Fork          string  `json:"fork"`
	ExcessBlobGas uint64  `json:"excessBlobGas"`
	BlobBaseFee   *string `json:"blobBaseFee"`
	Error         string  `json:"error,omitempty"`
}

type chainFees struct {
	ChainID uint64    `json:"l1ChainId"`
	Forks   any       `json:"forkTimes"`
	Cases   []feeCase `json:"cases"`
}

type cancunCase struct {
	ExcessBlobGas uint64 `json:"excessBlobGas"`
	BlobBaseFee   string `json:"blobBaseFee"`
}

type l1InfoCase struct {
	Name         string           `json:"name"`
	RollupConfig string           `json:"rollupConfig"`
	L1Header     *types.Header    `json:"l1Header"`
	SystemConfig eth.SystemConfig `json:"systemConfig"`
	SeqNumber    uint64           `json:"sequenceNumber"`
	L2Timestamp  uint64           `json:"l2Timestamp"`
	BlobBaseFee  string           `json:"blobBaseFee"`
	Deposit      hexutil.Bytes    `json:"l1InfoDeposit"`
}

// Excess blob gas values: zero, small, the update fractions themselves (fee ~ e), values seen
// on mainnet after the BPO forks (tens of millions), and large ones.
var excessValues = []uint64{
	0, 1, 131072, 393216, 2_000_000, 3_338_477, 5_007_716, 8_346_193, 11_684_671,
	20_000_000, 37_500_000, 61_000_000, 100_000_000, 250_000_000,
}

func fee(cfg *params.ChainConfig, ts, excess uint64) (res *string, errStr string) {
	defer func() {
		if r := recover(); r != nil {
			res, errStr = nil, fmt.Sprint(r)
		}
	}()
	h := &types.Header{Number: big.NewInt(100_000_000), Time: ts, ExcessBlobGas: &excess}
	s := eip4844.CalcBlobFee(cfg, h).String()
	return &s, ""
}

func blobFees(rollupDir string) map[string]any {
	var chains []chainFees
	for _, id := range []uint64{1, 11155111, 17000, 560048} {
		cfg := eth.L1ChainConfigByChainID(eth.ChainIDFromUInt64(id))
		if cfg == nil {
			panic(fmt.Sprintf("no built-in L1 chain config for %d", id))
		}
		times := []struct {
			name string
			t    *uint64
		}{
			{"cancun", cfg.CancunTime}, {"prague", cfg.PragueTime}, {"osaka", cfg.OsakaTime},
			{"bpo1", cfg.BPO1Time}, {"bpo2", cfg.BPO2Time},
		}
		forkTimes := map[string]uint64{}
		var cases []feeCase
		for _, ft := range times {
			if ft.t == nil {
				continue
			}
			forkTimes[ft.name] = *ft.t
			for _, ts := range []uint64{*ft.t - 1, *ft.t, *ft.t + 3600} {
				if *ft.t == 0 && ts == ^uint64(0) {
					continue
				}
				for _, x := range excessValues {
					f, e := fee(cfg, ts, x)
					cases = append(cases, feeCase{ts, ft.name, x, f, e})
				}
			}
		}
		chains = append(chains, chainFees{id, forkTimes, cases})
	}
	var cancun []cancunCase
	for _, x := range excessValues {
		cancun = append(cancun, cancunCase{x, eth.CalcBlobFeeCancun(x).String()})
	}
	return map[string]any{
		"generator":  "interop/go/vectors (pyop), go run ./vectors blobfees",
		"versions":   "optimism v1.19.6, op-geth v1.101702.3-rc.7",
		"l1Chains":   chains,
		"cancunFees": cancun,
		"l1InfoDeposits": []l1InfoCase{
			l1Info(rollupDir, "op-mainnet-10.rollup.json", "OP Mainnet, L1 origin after mainnet BPO2",
				1767747671+12*1000, 61_000_000, 1, 1768000001),
			l1Info(rollupDir, "op-mainnet-10.rollup.json", "OP Mainnet, L1 origin between mainnet BPO1 and BPO2",
				1765290071+12*100, 37_500_000, 0, 1765291301),
			l1Info(rollupDir, "op-sepolia-11155420.rollup.json", "OP Sepolia, L1 origin after Sepolia BPO2",
				1761607008+12*5000, 100_000_000, 3, 1761667020),
			l1Info(rollupDir, "op-sepolia-11155420.rollup.json",
				"OP Sepolia, L1 origin after Sepolia Prague but before pectra_blob_schedule_time (Cancun fraction)",
				1741159776+12*100, 20_000_000, 0, 1741161000),
		},
	}
}

func l1Info(dir, file, name string, l1Time, excess, seq, l2Time uint64) l1InfoCase {
	raw, err := os.ReadFile(filepath.Join(dir, file))
	if err != nil {
		panic(err)
	}
	var rcfg rollup.Config
	if err := json.Unmarshal(raw, &rcfg); err != nil {
		panic(err)
	}
	l1cfg := eth.L1ChainConfigByChainID(eth.ChainIDFromBig(rcfg.L1ChainID))
	// A synthetic post-merge L1 header with every field set, so that its hash is defined.
	blobUsed := uint64(6 * 131072)
	beacon := crypto.Keccak256Hash([]byte(name), []byte("beacon"))
	requests := types.EmptyRequestsHash
	withdrawals := types.EmptyWithdrawalsHash
	h := &types.Header{
		ParentHash:       crypto.Keccak256Hash([]byte(name), []byte("parent")),
		UncleHash:        types.EmptyUncleHash,
		Coinbase:         common.HexToAddress("0x4838b106fce9647bdf1e7877bf73ce8b0bad5f97"),
		Root:             crypto.Keccak256Hash([]byte(name), []byte("state")),
		TxHash:           types.EmptyTxsHash,
		ReceiptHash:      types.EmptyReceiptsHash,
		Difficulty:       big.NewInt(0),
		Number:           new(big.Int).SetUint64(20_000_000 + l1Time%1_000_000),
		GasLimit:         60_000_000,
		GasUsed:          21_000_000,
		Time:             l1Time,
		Extra:            []byte("pyop vectors"),
		MixDigest:        crypto.Keccak256Hash([]byte(name), []byte("randao")),
		BaseFee:          big.NewInt(1_234_567_890),
		WithdrawalsHash:  &withdrawals,
		BlobGasUsed:      &blobUsed,
		ExcessBlobGas:    &excess,
		ParentBeaconRoot: &beacon,
		RequestsHash:     &requests,
	}
	sys := rcfg.Genesis.SystemConfig
	// Ecotone-style scalars, operator fee and DA footprint so every Jovian field is non-zero.
	sys.Scalar = eth.Bytes32(common.HexToHash("0x010000000000000000000000000000000000000000000000000c5fc500000558"))
	sys.OperatorFeeParams = eth.Bytes32(common.HexToHash("0x0000000000000000000000000000000000000000000004d2000000000000162e"))
	sys.DAFootprintGasScalar = 400
	sys.MinBaseFee = 1_000_000
	info := eth.HeaderBlockInfo(h)
	dep, err := derive.L1InfoDepositBytes(&rcfg, l1cfg, sys, seq, info, l2Time)
	if err != nil {
		panic(err)
	}
	d, err := derive.L1BlockInfoFromBytes(&rcfg, l2Time, mustDepositData(dep))
	if err != nil {
		panic(err)
	}
	return l1InfoCase{name, file, h, sys, seq, l2Time, d.BlobBaseFee.String(), dep}
}

func mustDepositData(b []byte) []byte {
	var tx types.Transaction
	if err := tx.UnmarshalBinary(b); err != nil {
		panic(err)
	}
	return tx.Data()
}

type upgradeTx struct {
	Hash       common.Hash     `json:"hash"`
	SourceHash common.Hash     `json:"sourceHash"`
	From       common.Address  `json:"from"`
	To         *common.Address `json:"to"`
	Gas        uint64          `json:"gas"`
	Mint       string          `json:"mint"`
	Value      string          `json:"value"`
	DataLength int             `json:"dataLength"`
	DataHash   common.Hash     `json:"dataKeccak"`
}

type upgradeSet struct {
	Name       string      `json:"name"`
	UpgradeGas uint64      `json:"upgradeGas"`
	Txs        []upgradeTx `json:"txs"`
}

func describe(txs []hexutil.Bytes) []upgradeTx {
	out := make([]upgradeTx, 0, len(txs))
	for _, raw := range txs {
		var tx types.Transaction
		if err := tx.UnmarshalBinary(raw); err != nil {
			panic(err)
		}
		if tx.Type() != optypes.DepositTxType {
			panic("not a deposit")
		}
		from, err := types.Sender(types.LatestSignerForChainID(big.NewInt(10)), &tx)
		if err != nil {
			panic(err)
		}
		out = append(out, upgradeTx{
			Hash: crypto.Keccak256Hash(raw), SourceHash: tx.SourceHash(), From: from, To: tx.To(),
			Gas: tx.Gas(), Mint: tx.Mint().String(), Value: tx.Value().String(),
			DataLength: len(tx.Data()), DataHash: crypto.Keccak256Hash(tx.Data()),
		})
	}
	return out
}

func upgrades() map[string]any {
	karst, karstGas, err := derive.UpgradeTransactions(forks.Karst)
	if err != nil {
		panic(err)
	}
	lagoonGas, err := derive.UpgradeGas(forks.Lagoon)
	if err != nil {
		panic(err)
	}
	lagoonSingle, gasSingle, err := derive.LagoonActivationUpgradeTransactions(false)
	if err != nil {
		panic(err)
	}
	lagoonMulti, gasMulti, err := derive.LagoonActivationUpgradeTransactions(true)
	if err != nil {
		panic(err)
	}
	if gasSingle != lagoonGas || gasMulti != lagoonGas {
		panic("lagoon gas mismatch")
	}
	return map[string]any{
		"generator": "interop/go/vectors (pyop), go run ./vectors upgrades",
		"versions":  "optimism v1.19.6, op-geth v1.101702.3-rc.7",
		"sets": []upgradeSet{
			{"karst", karstGas, describe(karst)},
			{"lagoon-single-chain", gasSingle, describe(lagoonSingle)},
			{"lagoon-multi-chain", gasMulti, describe(lagoonMulti)},
		},
	}
}

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: vectors blobfees ROLLUP_CONFIG_DIR | vectors upgrades")
		os.Exit(2)
	}
	var out any
	switch os.Args[1] {
	case "blobfees":
		if len(os.Args) != 3 {
			fmt.Fprintln(os.Stderr, "usage: vectors blobfees ROLLUP_CONFIG_DIR")
			os.Exit(2)
		}
		out = blobFees(os.Args[2])
	case "upgrades":
		out = upgrades()
	default:
		fmt.Fprintln(os.Stderr, "unknown vector set", os.Args[1])
		os.Exit(2)
	}
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", " ")
	if err := enc.Encode(out); err != nil {
		panic(err)
	}
}
