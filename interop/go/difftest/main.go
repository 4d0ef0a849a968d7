// Command difftest is pyop's differential-testing peer: it exposes functions of the Go op-node
// (github.com/ethereum-optimism/optimism v1.19.6, op-node/rollup/derive and op-service/eth) as a
// line protocol, one JSON object in and one JSON object out per line, for `pyop difftest`.
//
// Usage: difftest TARGET   (reads requests on stdin, writes responses on stdout, in order)
//
//	difftest --list        (the targets, one a line)
//
// Every response is {"v": VALUE, "info": {...}}: VALUE is the canonical result that pyop's
// side must reproduce exactly; "info" carries details (error messages) that are not compared.
// The request {"difftest_stats": true} answers {"n": requests so far, "ns": nanoseconds spent
// inside the handlers}, so the client can report op-node's own throughput apart from the pipe.
// A request that cannot be parsed gives {"bad_input": "..."}; a panic inside op-node code gives
// {"panic": "..."} (both end in pyop's report, never silently).
//
// This is our code calling op-node's exported functions as a library; nothing of op-node is
// copied here. Output is flushed whenever stdin has no further buffered line, so a client that
// writes a batch of requests gets the batch of responses back with one pipe round trip.
package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"runtime/debug"
	"sort"
	"time"
)

// handler turns one request line into a response (V, Info) or an input error.
type handler func(line []byte) (resp, error)

type resp struct {
	V    any            `json:"v"`
	Info map[string]any `json:"info,omitempty"`
}

var handlers = map[string]handler{}

func register(name string, h handler) { handlers[name] = h }

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: difftest TARGET | --list")
		os.Exit(2)
	}
	if os.Args[1] == "--list" {
		names := make([]string, 0, len(handlers))
		for n := range handlers {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			fmt.Println(n)
		}
		return
	}
	h, ok := handlers[os.Args[1]]
	if !ok {
		fmt.Fprintf(os.Stderr, "difftest: unknown target %q\n", os.Args[1])
		os.Exit(2)
	}
	// Inputs may be megabytes long (maximal channels), so read whole lines without a cap.
	r := bufio.NewReaderSize(os.Stdin, 1<<20)
	w := bufio.NewWriterSize(os.Stdout, 1<<20)
	defer w.Flush()
	var n, ns int64
	statsReq := []byte(`{"difftest_stats"`)
	for {
		line, err := r.ReadBytes('\n')
		if len(line) > 0 {
			var out []byte
			if bytes.HasPrefix(line, statsReq) {
				out, _ = json.Marshal(map[string]int64{"n": n, "ns": ns})
			} else {
				t0 := time.Now()
				out = runOne(h, line)
				ns += time.Since(t0).Nanoseconds()
				n++
			}
			w.Write(out)
			w.WriteByte('\n')
			if r.Buffered() == 0 {
				if err := w.Flush(); err != nil {
					return
				}
			}
		}
		if err != nil {
			return
		}
	}
}

func runOne(h handler, line []byte) (out []byte) {
	defer func() {
		if p := recover(); p != nil {
			out, _ = json.Marshal(map[string]any{"panic": fmt.Sprint(p), "stack": string(debug.Stack())})
		}
	}()
	res, err := h(line)
	if err != nil {
		out, _ = json.Marshal(map[string]any{"bad_input": err.Error()})
		return out
	}
	out, err = json.Marshal(res)
	if err != nil {
		out, _ = json.Marshal(map[string]any{"bad_input": "marshal: " + err.Error()})
	}
	return out
}
