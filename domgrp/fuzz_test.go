package domgrp_test

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// TestModel applies seeded random operation sequences to a Table and the
// reference model and compares them after every step.
func TestModel(t *testing.T) {
	seeds := 300
	if testing.Short() {
		seeds = 50
	}
	for seed := range uint64(seeds) {
		t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(seed, 0x67726f7665))
			ops := make([]byte, 400*opBytes)
			for i := range ops {
				ops[i] = byte(rng.UintN(256))
			}
			if err := newRunner().run(ops); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// FuzzOps decodes bytes into operations (opBytes each) and checks the table
// against the model and the invariants after each.
func FuzzOps(f *testing.F) {
	f.Add([]byte{0, 1, 0, 2, 0, 1, 4, 1, 1, 6, 0, 1, 7, 0, 1})
	f.Fuzz(func(t *testing.T, ops []byte) {
		if len(ops) > 600*opBytes {
			ops = ops[:600*opBytes]
		}
		if err := newRunner().run(ops); err != nil {
			t.Fatal(err)
		}
	})
}
