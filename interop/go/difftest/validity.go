package main

// Targets over batch validity: CheckBatch (the rule function, any fork) and the Holocene
// BatchStage (the stage that, from Holocene, applies the rules to singular and span batches).

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"io"

	"github.com/ethereum/go-ethereum/crypto"

	"github.com/ethereum-optimism/optimism/op-node/rollup/derive"
	"github.com/ethereum-optimism/optimism/op-service/eth"
)

func init() {
	register("check-batch", hCheckBatch)
	register("batch-stage", hBatchStage)
}

// spanInvalid: span batch bytes that op-node would not turn into a batch never reach the batch
// rules; where exactly decoding stops (decode or derive) is compared by the channel target.
func spanInvalid(kind string, err error) resp {
	return resp{V: M{"err": "span_invalid"}, Info: M{"kind": kind, "msg": err.Error()}}
}

var validityNames = map[derive.BatchValidity]string{
	derive.BatchDrop:      "drop",
	derive.BatchAccept:    "accept",
	derive.BatchUndecided: "undecided",
	derive.BatchFuture:    "future",
	derive.BatchPast:      "past",
}

// check-batch: derive.CheckBatch(cfg, l1Blocks, safeHead, batch with its inclusion block, L2
// fetcher fake). Span batch bytes that do not decode/derive give {"err": kind}.
func hCheckBatch(line []byte) (resp, error) {
	var in struct {
		Cfg       json.RawMessage  `json:"cfg"`
		L1Blocks  []eth.L1BlockRef `json:"l1Blocks"`
		SafeHead  eth.L2BlockRef   `json:"safeHead"`
		Inclusion eth.L1BlockRef   `json:"inclusion"`
		Batch     batchInput       `json:"batch"`
		L2        *l2Input         `json:"l2"`
	}
	if err := json.Unmarshal(line, &in); err != nil {
		return resp{}, err
	}
	cfg, err := rollupConfig(in.Cfg)
	if err != nil {
		return resp{}, err
	}
	b, kind, err := in.Batch.decode(cfg)
	if err != nil {
		return spanInvalid(kind, err), nil
	}
	v := derive.CheckBatch(ctx, cfg, quiet, in.L1Blocks, in.SafeHead,
		&derive.BatchWithL1InclusionBlock{Batch: b, L1InclusionBlock: in.Inclusion}, fakeL2{in.L2})
	name, ok := validityNames[v]
	if !ok {
		name = "unknown"
	}
	return resp{V: M{"validity": name}}, nil
}

// queueProvider is the NextBatchProvider under the BatchStage: while `warming` it answers
// NotEnoughData (the stage only tracks origins); then it hands out its batches, then io.EOF.
// Flushes are recorded in the event list, in order.
type queueProvider struct {
	origin  eth.L1BlockRef
	warming bool
	batches []derive.Batch
	events  *[]M
}

func (p *queueProvider) FlushChannel() {
	*p.events = append(*p.events, M{"flush": true})
	p.batches = nil
}
func (p *queueProvider) Origin() eth.L1BlockRef { return p.origin }
func (p *queueProvider) NextBatch(context.Context) (derive.Batch, error) {
	if p.warming {
		return nil, derive.NotEnoughData
	}
	if len(p.batches) == 0 {
		return nil, io.EOF
	}
	b := p.batches[0]
	p.batches = p.batches[1:]
	return b, nil
}

// nextParent is the L2 block a test chain gets when `b` is applied on `parent`; the hash is
// keccak256("pyop-difftest-l2" ++ uint64be(number)), computed the same way on pyop's side.
func nextParent(parent eth.L2BlockRef, b *derive.SingularBatch) eth.L2BlockRef {
	num := parent.Number + 1
	var n [8]byte
	binary.BigEndian.PutUint64(n[:], num)
	seq := uint64(0)
	if uint64(b.EpochNum) == parent.L1Origin.Number {
		seq = parent.SequenceNumber + 1
	}
	return eth.L2BlockRef{
		Hash:           crypto.Keccak256Hash([]byte("pyop-difftest-l2"), n[:]),
		Number:         num,
		ParentHash:     parent.Hash,
		Time:           b.Timestamp,
		L1Origin:       b.Epoch(),
		SequenceNumber: seq,
	}
}

// batch-stage: the Holocene BatchStage. Reset to l1Blocks[0], the origin advances through the
// other L1 blocks (the last is the inclusion block of the batches), then the stage is stepped
// with the safe head as parent; every returned batch is applied (the parent advances, see
// nextParent). The value is the list of events: returned batches with their `concluding`
// flag, flushes, NotEnoughData, EOF and error classes.
func hBatchStage(line []byte) (resp, error) {
	var in struct {
		Cfg      json.RawMessage  `json:"cfg"`
		L1Blocks []eth.L1BlockRef `json:"l1Blocks"`
		Parent   eth.L2BlockRef   `json:"parent"`
		Batches  []batchInput     `json:"batches"`
		L2       *l2Input         `json:"l2"`
		Steps    int              `json:"steps"`
	}
	if err := json.Unmarshal(line, &in); err != nil {
		return resp{}, err
	}
	cfg, err := rollupConfig(in.Cfg)
	if err != nil {
		return resp{}, err
	}
	if len(in.L1Blocks) == 0 {
		return resp{}, errors.New("no l1Blocks")
	}
	var batches []derive.Batch
	for _, bi := range in.Batches {
		b, kind, err := bi.decode(cfg)
		if err != nil {
			return spanInvalid(kind, err), nil
		}
		batches = append(batches, b)
	}
	events := []M{}
	prov := &queueProvider{origin: in.L1Blocks[0], warming: true, events: &events}
	stage := derive.NewBatchStage(quiet, cfg, prov, fakeL2{in.L2})
	_ = stage.Reset(ctx, in.L1Blocks[0], eth.SystemConfig{})
	parent := in.Parent
	for _, o := range in.L1Blocks[1:] {
		prov.origin = o
		if _, _, err := stage.NextBatch(ctx, parent); err != nil && !errors.Is(err, derive.NotEnoughData) {
			events = append(events, M{"warmup": errClass(err)})
			return resp{V: M{"events": events}}, nil
		}
	}
	prov.warming = false
	prov.batches = batches
	var msgs []string
	for step := 0; step < in.Steps; step++ {
		b, concluding, err := stage.NextBatch(ctx, parent)
		if err == io.EOF {
			events = append(events, M{"eof": true})
			break
		}
		if errors.Is(err, derive.NotEnoughData) {
			events = append(events, M{"ned": true})
			continue
		}
		if err != nil {
			events = append(events, M{"error": errClass(err)})
			msgs = append(msgs, err.Error())
			break
		}
		events = append(events, M{"batch": singularJSON(b), "concluding": concluding})
		parent = nextParent(parent, b)
	}
	return resp{V: M{"events": events}, Info: M{"errors": msgs}}, nil
}
