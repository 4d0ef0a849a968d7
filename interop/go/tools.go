//go:build tools

// Package tools pins the Go reference peers that scripts/build-peers.sh builds.
// It is never compiled (build tag "tools"); the blank imports only keep the
// four main packages and their dependencies in go.mod/go.sum under `go mod tidy`.
package tools

import (
	_ "github.com/ethereum-optimism/optimism/op-batcher/cmd"
	_ "github.com/ethereum-optimism/optimism/op-node/cmd"
	_ "github.com/ethereum-optimism/optimism/op-proposer/cmd"
	_ "github.com/ethereum/go-ethereum/cmd/geth"
)
