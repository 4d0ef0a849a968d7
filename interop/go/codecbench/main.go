// Command codecbench times the Go op-node's own channel codec (github.com/ethereum-optimism/
// optimism v1.19.6, op-node/rollup/derive) on batcher transaction data, for pyop's
// bench/go_codec_bench.py, which runs pyop's codec on the same bytes in the same run.
//
// Usage: codecbench INPUT.json   (writes one JSON object to stdout)
//
// INPUT: {"block_time": 2, "genesis_time": N, "chain_id": N, "max_rlp_bytes": N, "fjord": true,
// "repeat": R, "payloads": ["0x00...", ...]}, each payload the data of one batcher transaction
// (derivation version byte ++ frames; blobs already decoded), in L1 order.
//
// The timed work, per repetition, for all payloads: derive.ParseFrames -> derive.Channel
// (AddFrame, IsReady, Reader) -> derive.BatchReader (zlib / brotli, RLP) -> for a span batch
// derive.DeriveSpanBatch (tx rebuilding) and SpanBatch.GetSingularBatches over L1 origin refs
// built for its epochs; a singular batch is taken as is. The best (minimum) wall-clock time of R
// repetitions is reported, with the blocks and transactions produced and a SHA-256 digest of the
// resulting singular batches (epoch number, timestamp, each transaction), computed outside the
// timed part, so the Python side can check that both produced the same bytes.
//
// This is our code calling op-node's exported functions as a library; nothing of op-node is
// copied here.
package main

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"os"
	"time"

	"github.com/ethereum/go-ethereum/common/hexutil"

	"github.com/ethereum-optimism/optimism/op-node/rollup"
	"github.com/ethereum-optimism/optimism/op-node/rollup/derive"
	"github.com/ethereum-optimism/optimism/op-service/eth"
)

type input struct {
	BlockTime   uint64          `json:"block_time"`
	GenesisTime uint64          `json:"genesis_time"`
	ChainID     uint64          `json:"chain_id"`
	MaxRLPBytes uint64          `json:"max_rlp_bytes"`
	Fjord       bool            `json:"fjord"`
	Repeat      int             `json:"repeat"`
	Payloads    []hexutil.Bytes `json:"payloads"`
}

// run decodes every payload into singular batches with op-node's functions.
func run(in *input, cfg *rollup.Config) ([]*derive.SingularBatch, error) {
	var out []*derive.SingularBatch
	channels := map[derive.ChannelID]*derive.Channel{}
	var origin eth.L1BlockRef
	for _, data := range in.Payloads {
		frames, err := derive.ParseFrames(data)
		if err != nil {
			return nil, fmt.Errorf("parse frames: %w", err)
		}
		for _, f := range frames {
			ch, ok := channels[f.ID]
			if !ok {
				ch = derive.NewChannel(f.ID, origin, false)
				channels[f.ID] = ch
			}
			if err := ch.AddFrame(f, origin); err != nil {
				return nil, fmt.Errorf("add frame: %w", err)
			}
			if !ch.IsReady() {
				continue
			}
			delete(channels, f.ID)
			next, err := derive.BatchReader(ch.Reader(), in.MaxRLPBytes, in.Fjord)
			if err != nil {
				return nil, fmt.Errorf("batch reader: %w", err)
			}
			for {
				bd, err := next()
				if errors.Is(err, io.EOF) {
					break
				} else if err != nil {
					return nil, fmt.Errorf("read batch: %w", err)
				}
				switch bd.GetBatchType() {
				case derive.SingularBatchType:
					sb, err := derive.GetSingularBatch(bd)
					if err != nil {
						return nil, err
					}
					out = append(out, sb)
				case derive.SpanBatchType:
					span, err := derive.DeriveSpanBatch(bd, cfg)
					if err != nil {
						return nil, fmt.Errorf("derive span batch: %w", err)
					}
					first, last := uint64(span.GetStartEpochNum()), uint64(span.GetLastEpochNum())
					origins := make([]eth.L1BlockRef, 0, last-first+1)
					for n := first; n <= last; n++ {
						origins = append(origins, eth.L1BlockRef{Number: n})
					}
					safe := eth.L2BlockRef{Time: span.GetTimestamp() - in.BlockTime, L1Origin: eth.BlockID{Number: first}}
					sbs, err := span.GetSingularBatches(origins, safe)
					if err != nil {
						return nil, fmt.Errorf("singular batches: %w", err)
					}
					out = append(out, sbs...)
				default:
					return nil, fmt.Errorf("unknown batch type %d", bd.GetBatchType())
				}
			}
		}
	}
	return out, nil
}

func digest(batches []*derive.SingularBatch) (string, int) {
	h := sha256.New()
	var buf [8]byte
	txs := 0
	for _, b := range batches {
		binary.BigEndian.PutUint64(buf[:], uint64(b.EpochNum))
		h.Write(buf[:])
		binary.BigEndian.PutUint64(buf[:], b.Timestamp)
		h.Write(buf[:])
		for _, tx := range b.Transactions {
			binary.BigEndian.PutUint32(buf[:4], uint32(len(tx)))
			h.Write(buf[:4])
			h.Write(tx)
			txs++
		}
	}
	return hex.EncodeToString(h.Sum(nil)), txs
}

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: codecbench INPUT.json")
		os.Exit(2)
	}
	raw, err := os.ReadFile(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	var in input
	if err := json.Unmarshal(raw, &in); err != nil {
		fmt.Fprintln(os.Stderr, "bad input:", err)
		os.Exit(1)
	}
	if in.Repeat < 1 {
		in.Repeat = 1
	}
	cfg := &rollup.Config{BlockTime: in.BlockTime, L2ChainID: new(big.Int).SetUint64(in.ChainID)}
	cfg.Genesis.L2Time = in.GenesisTime
	var best time.Duration = -1
	var batches []*derive.SingularBatch
	for i := 0; i < in.Repeat; i++ {
		t0 := time.Now()
		batches, err = run(&in, cfg)
		dt := time.Since(t0)
		if err != nil {
			fmt.Fprintln(os.Stderr, "codecbench:", err)
			os.Exit(1)
		}
		if best < 0 || dt < best {
			best = dt
		}
	}
	d, txs := digest(batches)
	out, _ := json.Marshal(map[string]any{
		"ns": best.Nanoseconds(), "blocks": len(batches), "txs": txs, "digest": d,
		"repeat": in.Repeat,
	})
	fmt.Println(string(out))
}
