package imports

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"time"

	"drives/store"
)

// Phase is how far an import has got.
type Phase string

// An import reads and checks its file, stages its rows, waits for a merge slot if every one is
// taken, and has the campaign merge the batch.
const (
	PhaseReading Phase = "reading"
	PhaseStaging Phase = "staging"
	PhaseWaiting Phase = "waiting"
	PhaseMerging Phase = "merging"
	PhaseMerged  Phase = "merged"
)

// Progress says how far an import has got: bytes read while reading, rows while staging.
type Progress struct {
	Phase       Phase
	Done, Total int
	Note        string // e.g. why it waits
}

func (im *Importer) report(p Progress) {
	if im.Progress != nil {
		im.Progress(p)
	}
}

// DefaultMaxMerging is how many imports are staged and merged at once when the Importer does
// not say: enough to keep the workers busy, few enough that a rush of uploads does not hold
// every connection and a gigabyte of files at once.
const DefaultMaxMerging = 4

// MaxMergingFromEnv is DRIVES_IMPORT_SLOTS, or DefaultMaxMerging when it is unset or not a
// positive number: every process importing into one database should be given the same.
func MaxMergingFromEnv() int {
	n, err := strconv.Atoi(os.Getenv("DRIVES_IMPORT_SLOTS"))
	if err != nil || n < 1 {
		return DefaultMaxMerging
	}
	return n
}

// slotRetry is how long an import waits before it tries the slots again.
var slotRetry = time.Second

// withSlot runs fn holding one of the MaxMerging import slots, which are shared by every
// process importing into the database: advisory locks held on a connection of their own.
// While every slot is taken it says so and tries again.
func (im *Importer) withSlot(ctx context.Context, fn func() error) error {
	n := im.MaxMerging
	if n <= 0 {
		n = MaxMergingFromEnv()
	}
	conn, err := im.DB.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("take an import slot: %w", err)
	}
	defer conn.Release()
	for {
		slot, err := store.TryImportSlot(ctx, conn, n)
		if err != nil {
			return err
		}
		if slot > 0 {
			defer func() {
				rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
				defer cancel()
				if err := store.ReleaseImportSlot(rctx, conn, slot); err != nil {
					// The connection must not go back to the pool still holding the slot.
					_ = conn.Conn().Close(rctx)
				}
			}()
			return fn()
		}
		im.report(Progress{Phase: PhaseWaiting, Note: fmt.Sprintf("waiting: %d imports are being merged", n)})
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(slotRetry):
		}
	}
}
