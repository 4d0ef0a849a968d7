package main

// Targets over the wire formats: frames, batches, channels, span batch derivation, blobs.

import (
	"context"
	"encoding/json"
	"errors"
	"io"

	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/crypto"

	"github.com/ethereum-optimism/optimism/op-node/rollup/derive"
	"github.com/ethereum-optimism/optimism/op-service/eth"
)

func init() {
	register("frames", hFrames)
	register("batch", hBatch)
	register("channel", hChannel)
	register("span-derive", hSpanDerive)
	register("blob", hBlob)
}

// frames: derive.ParseFrames on batcher transaction data. Any error rejects the whole
// transaction, so every error is one kind: "invalid".
func hFrames(line []byte) (resp, error) {
	var in struct {
		Data hexutil.Bytes `json:"data"`
	}
	if err := json.Unmarshal(line, &in); err != nil {
		return resp{}, err
	}
	frames, err := derive.ParseFrames(in.Data)
	if err != nil {
		return errResp("invalid", err), nil
	}
	out := make([]M, len(frames))
	for i, f := range frames {
		out[i] = M{"id": B(f.ID[:]), "number": f.FrameNumber, "data": B(f.Data), "isLast": f.IsLast}
	}
	return resp{V: M{"frames": out}}, nil
}

// batch: BatchData.UnmarshalBinary (batch type byte ++ content). A singular batch is given as
// its fields; a span batch (whose decoded fields are unexported) as its canonical re-encoding
// BatchData.MarshalBinary, which is a function of the decoded fields only.
func hBatch(line []byte) (resp, error) {
	var in struct {
		Data hexutil.Bytes `json:"data"`
	}
	if err := json.Unmarshal(line, &in); err != nil {
		return resp{}, err
	}
	var bd derive.BatchData
	if err := bd.UnmarshalBinary(in.Data); err != nil {
		return errResp("decode", err), nil
	}
	switch bd.GetBatchType() {
	case derive.SingularBatchType:
		sb, err := derive.GetSingularBatch(&bd)
		if err != nil {
			return errResp("decode", err), nil
		}
		return resp{V: M{"singular": singularJSON(sb)}}, nil
	default:
		enc, err := bd.MarshalBinary()
		if err != nil {
			return errResp("reencode", err), nil
		}
		return resp{V: M{"span": B(enc)}}, nil
	}
}

// oneChannel is a RawChannelProvider that hands out one channel's data, then io.EOF.
type oneChannel struct {
	data    []byte
	origin  eth.L1BlockRef
	done    bool
	flushes int
}

func (p *oneChannel) Reset(context.Context, eth.L1BlockRef, eth.SystemConfig) error { return io.EOF }
func (p *oneChannel) FlushChannel()                                                 { p.flushes++ }
func (p *oneChannel) Origin() eth.L1BlockRef                                        { return p.origin }
func (p *oneChannel) NextRawChannel(context.Context) ([]byte, error) {
	if p.done {
		return nil, io.EOF
	}
	p.done = true
	return p.data, nil
}

// channel: op-node's ChannelInReader stage over one channel's data read in L1 block `origin`:
// decompression (zlib; brotli from Fjord), MaxRLPBytesPerChannel (Fjord by origin time), batch
// decoding, span batches only from Delta, span derivation. The compared value is the list of
// batches the next stage receives; how the channel ended (EOF or a read error) and how many
// NotEnoughData steps it took are info, since the pipeline acts the same on both.
func hChannel(line []byte) (resp, error) {
	var in struct {
		Cfg    json.RawMessage `json:"cfg"`
		Origin eth.L1BlockRef  `json:"origin"`
		Data   hexutil.Bytes   `json:"data"`
	}
	if err := json.Unmarshal(line, &in); err != nil {
		return resp{}, err
	}
	cfg, err := rollupConfig(in.Cfg)
	if err != nil {
		return resp{}, err
	}
	prov := &oneChannel{data: in.Data, origin: in.Origin}
	cr := derive.NewChannelInReader(cfg, quiet, prov, noMetrics{})
	batches := []M{}
	var errs []string
	ned := 0
	for step := 0; step < 1_000_000; step++ {
		b, err := cr.NextBatch(ctx)
		if err == io.EOF {
			break
		}
		if errors.Is(err, derive.NotEnoughData) {
			ned++
			continue
		}
		if err != nil {
			errs = append(errs, errClass(err)+": "+err.Error())
			if errors.Is(err, derive.ErrCritical) {
				batches = append(batches, M{"critical": true})
				break
			}
			continue
		}
		batches = append(batches, batchJSON(b))
	}
	return resp{V: M{"batches": batches}, Info: M{"not_enough_data": ned, "errors": errs}}, nil
}

// span-derive: a span batch (type byte included) decoded, derived with the rollup config
// (DeriveSpanBatch: block time, L2 genesis time, L2 chain id) and turned into singular batches
// after a safe head (SpanBatch.GetSingularBatches).
func hSpanDerive(line []byte) (resp, error) {
	var in struct {
		Cfg       json.RawMessage  `json:"cfg"`
		Data      hexutil.Bytes    `json:"data"`
		L1Origins []eth.L1BlockRef `json:"l1Origins"`
		SafeHead  eth.L2BlockRef   `json:"safeHead"`
	}
	if err := json.Unmarshal(line, &in); err != nil {
		return resp{}, err
	}
	cfg, err := rollupConfig(in.Cfg)
	if err != nil {
		return resp{}, err
	}
	var bd derive.BatchData
	if err := bd.UnmarshalBinary(in.Data); err != nil {
		return errResp("decode", err), nil
	}
	if bd.GetBatchType() != derive.SpanBatchType {
		return resp{V: M{"err": "not_span"}}, nil
	}
	sb, err := derive.DeriveSpanBatch(&bd, cfg)
	if err != nil {
		return errResp("derive", err), nil
	}
	out := M{"span": spanJSON(sb)}
	info := M{}
	singles, err := sb.GetSingularBatches(in.L1Origins, in.SafeHead)
	if err != nil {
		out["singular"] = "error"
		info["msg"] = err.Error()
	} else {
		// ParentHash is left out: GetSingularBatches leaves it to the stage, which sets it
		// when it pops each batch (pyop's function fills in the first one).
		list := make([]M, len(singles))
		for i, s := range singles {
			list[i] = singularJSON(s)
			delete(list[i], "parentHash")
		}
		out["singular"] = list
	}
	return resp{V: out, Info: info}, nil
}

// blob: a 131072-byte blob built as eth.Blob.FromData(data) (or all zeros), then patched at the
// given offsets, decoded with eth.Blob.ToData. The value has the blob's keccak256 (so pyop's
// encoder is checked against op-service's too) and the decoded data (or "err").
func hBlob(line []byte) (resp, error) {
	var in struct {
		Data    *hexutil.Bytes `json:"data"`
		Patches []struct {
			Offset int           `json:"offset"`
			Bytes  hexutil.Bytes `json:"bytes"`
		} `json:"patches"`
	}
	if err := json.Unmarshal(line, &in); err != nil {
		return resp{}, err
	}
	var blob eth.Blob
	out := M{}
	info := M{}
	if in.Data != nil {
		if err := blob.FromData(eth.Data(*in.Data)); err != nil {
			out["encode"] = "err"
			info["encode"] = err.Error()
			return resp{V: out, Info: info}, nil
		}
	}
	for _, p := range in.Patches {
		if p.Offset < 0 || p.Offset+len(p.Bytes) > len(blob) {
			return resp{}, errors.New("patch out of range")
		}
		copy(blob[p.Offset:], p.Bytes)
	}
	out["blob"] = hexutil.Encode(crypto.Keccak256(blob[:]))
	data, err := blob.ToData()
	if err != nil {
		out["data"] = "err"
		info["msg"] = err.Error()
	} else {
		out["data"] = B(data)
	}
	return resp{V: out, Info: info}, nil
}

// noMetrics satisfies derive.Metrics and records nothing.
type noMetrics struct{}

func (noMetrics) RecordL1Ref(string, eth.L1BlockRef) {}
func (noMetrics) RecordL2Ref(string, eth.L2BlockRef) {}
func (noMetrics) RecordChannelInputBytes(int)        {}
func (noMetrics) RecordHeadChannelOpened()           {}
func (noMetrics) RecordChannelTimedOut()             {}
func (noMetrics) RecordFrame()                       {}
func (noMetrics) RecordDerivedBatches(string)        {}
func (noMetrics) SetDerivationIdle(bool)             {}
func (noMetrics) RecordPipelineReset()               {}
