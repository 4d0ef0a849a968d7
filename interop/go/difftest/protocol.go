package main

// Targets over the protocol functions: the L1-info deposit (encode and decode), SystemConfig
// update logs, payload attributes.

import (
	"context"
	"encoding/json"
	"errors"
	"math/big"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/core/types"

	optypes "github.com/ethereum-optimism/optimism/op-core/types"
	"github.com/ethereum-optimism/optimism/op-node/rollup/derive"
	"github.com/ethereum-optimism/optimism/op-service/eth"
)

func init() {
	register("l1-info", hL1Info)
	register("system-config", hSystemConfig)
	register("attributes", hAttributes)
}

func bigStr(b *big.Int) string {
	if b == nil {
		return "0"
	}
	return b.String()
}

// l1InfoJSON is the canonical L1BlockInfo: every field, zero when the format lacks it.
func l1InfoJSON(i *derive.L1BlockInfo) M {
	return M{
		"number":               i.Number,
		"time":                 i.Time,
		"baseFee":              bigStr(i.BaseFee),
		"blockHash":            B(i.BlockHash[:]),
		"sequenceNumber":       i.SequenceNumber,
		"batcherAddr":          B(i.BatcherAddr[:]),
		"l1FeeOverhead":        B(i.L1FeeOverhead[:]),
		"l1FeeScalar":          B(i.L1FeeScalar[:]),
		"blobBaseFee":          bigStr(i.BlobBaseFee),
		"baseFeeScalar":        i.BaseFeeScalar,
		"blobBaseFeeScalar":    i.BlobBaseFeeScalar,
		"operatorFeeScalar":    i.OperatorFeeScalar,
		"operatorFeeConstant":  i.OperatorFeeConstant,
		"daFootprintGasScalar": i.DAFootprintGasScalar,
	}
}

// l1-info: mode "encode": L1InfoDepositBytes(cfg, L1 chain config, sysCfg, seq, L1 header, L2
// time) -> the deposit tx bytes and its calldata decoded back with L1BlockInfoFromBytes; mode
// "decode": L1BlockInfoFromBytes(cfg, L2 time, data) on given calldata.
func hL1Info(line []byte) (resp, error) {
	var in struct {
		Cfg     json.RawMessage  `json:"cfg"`
		Mode    string           `json:"mode"`
		L1Chain json.RawMessage  `json:"l1ChainConfig"`
		SysCfg  eth.SystemConfig `json:"sysCfg"`
		Seq     uint64           `json:"seq"`
		L1      l1Header         `json:"l1"`
		L2Time  uint64           `json:"l2Time"`
		Data    hexutil.Bytes    `json:"data"`
	}
	if err := json.Unmarshal(line, &in); err != nil {
		return resp{}, err
	}
	cfg, err := rollupConfig(in.Cfg)
	if err != nil {
		return resp{}, err
	}
	if in.Mode == "decode" {
		info, err := derive.L1BlockInfoFromBytes(cfg, in.L2Time, in.Data)
		if err != nil {
			return errResp("decode", err), nil
		}
		return resp{V: M{"info": l1InfoJSON(info)}}, nil
	}
	l1cc, err := l1ChainConfig(in.L1Chain)
	if err != nil {
		return resp{}, err
	}
	txb, err := derive.L1InfoDepositBytes(cfg, l1cc, in.SysCfg, in.Seq, in.L1.info(), in.L2Time)
	if err != nil {
		return errResp("encode", err), nil
	}
	var tx types.Transaction
	if err := tx.UnmarshalBinary(txb); err != nil {
		return errResp("reparse", err), nil
	}
	out := M{"tx": B(txb)}
	info, err := derive.L1BlockInfoFromBytes(cfg, in.L2Time, tx.Data())
	if err != nil {
		out["decoded"] = "err"
	} else {
		out["decoded"] = l1InfoJSON(info)
	}
	return resp{V: out}, nil
}

// system-config: UpdateSystemConfigWithL1Receipts(sysCfg, receipts, cfg, L1 time). Bad logs are
// skipped (their errors are joined into one); the value is the resulting SystemConfig, the
// error text is info.
func hSystemConfig(line []byte) (resp, error) {
	var in struct {
		Cfg      json.RawMessage  `json:"cfg"`
		SysCfg   eth.SystemConfig `json:"sysCfg"`
		L1Time   uint64           `json:"l1Time"`
		Receipts []receiptInput   `json:"receipts"`
	}
	if err := json.Unmarshal(line, &in); err != nil {
		return resp{}, err
	}
	cfg, err := rollupConfig(in.Cfg)
	if err != nil {
		return resp{}, err
	}
	sc := in.SysCfg
	err = derive.UpdateSystemConfigWithL1Receipts(&sc, gethReceipts(in.Receipts), cfg, in.L1Time)
	info := M{}
	if err != nil {
		info["msg"] = err.Error()
	}
	return resp{V: M{"sysCfg": sysCfgJSON(sc)}, Info: info}, nil
}

// fakeL1 serves L1 headers (with their receipts) by hash; fakeSysCfg the L2 parent's config.
type fakeL1 struct{ blocks map[common.Hash]*l1Header }

func (f fakeL1) InfoByHash(_ context.Context, h common.Hash) (eth.BlockInfo, error) {
	if b, ok := f.blocks[h]; ok {
		return b.info(), nil
	}
	return nil, ErrNotFound
}

func (f fakeL1) FetchReceipts(_ context.Context, h common.Hash) (eth.BlockInfo, optypes.Receipts, error) {
	if b, ok := f.blocks[h]; ok {
		return b.info(), optypes.FromGethReceipts(gethReceipts(b.Receipts)), nil
	}
	return nil, nil, ErrNotFound
}

type fakeSysCfg struct {
	hash common.Hash
	cfg  *eth.SystemConfig
}

func (f fakeSysCfg) SystemConfigByL2Hash(_ context.Context, h common.Hash) (eth.SystemConfig, error) {
	if f.cfg != nil && h == f.hash {
		return *f.cfg, nil
	}
	return eth.SystemConfig{}, ErrNotFound
}

// attributes: FetchingAttributesBuilder.PreparePayloadAttributes(parent, epoch) over fake
// fetchers (L1 headers and receipts by hash; the parent's SystemConfig). The value is the
// attributes with every field explicit (null when op-node leaves it out), or the error class.
func hAttributes(line []byte) (resp, error) {
	var in struct {
		Cfg      json.RawMessage   `json:"cfg"`
		L1Chain  json.RawMessage   `json:"l1ChainConfig"`
		Parent   eth.L2BlockRef    `json:"parent"`
		SysCfg   *eth.SystemConfig `json:"sysCfg"`
		Epoch    eth.BlockID       `json:"epoch"`
		L1Blocks []*l1Header       `json:"l1Blocks"`
	}
	if err := json.Unmarshal(line, &in); err != nil {
		return resp{}, err
	}
	cfg, err := rollupConfig(in.Cfg)
	if err != nil {
		return resp{}, err
	}
	l1cc, err := l1ChainConfig(in.L1Chain)
	if err != nil {
		return resp{}, err
	}
	blocks := map[common.Hash]*l1Header{}
	for _, b := range in.L1Blocks {
		blocks[b.Hash] = b
	}
	ab := derive.NewFetchingAttributesBuilder(cfg, l1cc, nil, fakeL1{blocks}, fakeSysCfg{in.Parent.Hash, in.SysCfg})
	attrs, err := ab.PreparePayloadAttributes(ctx, in.Parent, in.Epoch)
	if err != nil {
		return errResp(errClass(err), err), nil
	}
	return resp{V: M{"attributes": attributesJSON(attrs)}}, nil
}

func attributesJSON(a *eth.PayloadAttributes) M {
	out := M{
		"timestamp":             uint64(a.Timestamp),
		"prevRandao":            B(a.PrevRandao[:]),
		"suggestedFeeRecipient": B(a.SuggestedFeeRecipient[:]),
		"transactions":          Bs(a.Transactions),
		"noTxPool":              a.NoTxPool,
		"gasLimit":              nil,
		"withdrawals":           nil,
		"parentBeaconBlockRoot": nil,
		"eip1559Params":         nil,
		"minBaseFee":            nil,
	}
	if a.GasLimit != nil {
		out["gasLimit"] = uint64(*a.GasLimit)
	}
	if a.Withdrawals != nil {
		out["withdrawals"] = len(*a.Withdrawals)
	}
	if a.ParentBeaconBlockRoot != nil {
		out["parentBeaconBlockRoot"] = B(a.ParentBeaconBlockRoot[:])
	}
	if a.EIP1559Params != nil {
		out["eip1559Params"] = B(a.EIP1559Params[:])
	}
	if a.MinBaseFee != nil {
		out["minBaseFee"] = *a.MinBaseFee
	}
	return out
}

var _ = errors.New
