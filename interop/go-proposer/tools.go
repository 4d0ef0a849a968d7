//go:build tools

// Package tools pins the L2OutputOracle-capable op-proposer that
// scripts/build-peers.sh builds from this module. It is never compiled (build
// tag "tools"); the blank import only keeps op-proposer's main package and its
// dependencies in go.mod/go.sum under `go mod tidy`.
//
// Why a second module: op-proposer in the optimism version pinned by
// interop/go (v1.19.6) only proposes through the DisputeGameFactory; the
// devnet uses the L2OutputOracle, whose `--l2oo-address` flag exists only in
// older releases. See interop/go/BUILD-NOTES.md, section "op-proposer for the
// L2OutputOracle".
package tools

import (
	_ "github.com/ethereum-optimism/optimism/op-proposer/cmd"
)
