package imports

import (
	"context"
	"sync"
	"testing"
	"time"

	"drives/internal/testenv"
)

// TestOneSlotMakesTheSecondImportWait runs two imports' staging and merging under one slot,
// each with its own Importer as two processes would have: the second says it waits while the
// first holds the slot, and runs once the first is done; each runs once.
func TestOneSlotMakesTheSecondImportWait(t *testing.T) {
	pool := testenv.NewPool(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	old := slotRetry
	slotRetry = 20 * time.Millisecond
	defer func() { slotRetry = old }()

	var mu sync.Mutex
	var order []string
	var waits []string
	firstIn := make(chan struct{})
	releaseFirst := make(chan struct{})
	first := &Importer{DB: pool, MaxMerging: 1}
	second := &Importer{DB: pool, MaxMerging: 1, Progress: func(p Progress) {
		if p.Phase == PhaseWaiting {
			mu.Lock()
			waits = append(waits, p.Note)
			mu.Unlock()
		}
	}}
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		if err := first.withSlot(ctx, func() error {
			close(firstIn)
			<-releaseFirst
			mu.Lock()
			order = append(order, "first merged")
			mu.Unlock()
			return nil
		}); err != nil {
			t.Error(err)
		}
	}()
	<-firstIn
	go func() {
		defer wg.Done()
		if err := second.withSlot(ctx, func() error {
			mu.Lock()
			order = append(order, "second merged")
			mu.Unlock()
			return nil
		}); err != nil {
			t.Error(err)
		}
	}()
	// The second waits as long as the first holds the slot.
	deadline := time.Now().Add(10 * time.Second)
	for {
		mu.Lock()
		n, merged := len(waits), len(order)
		mu.Unlock()
		if merged > 0 {
			t.Fatalf("%v while the only slot was taken", order)
		}
		if n >= 3 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the second import never said it waits")
		}
		time.Sleep(10 * time.Millisecond)
	}
	close(releaseFirst)
	wg.Wait()
	if len(order) != 2 || order[0] != "first merged" || order[1] != "second merged" {
		t.Errorf("order %v, want the first merged, then the second, once each", order)
	}
	if waits[0] != "waiting: 1 imports are being merged" {
		t.Errorf("waiting note %q", waits[0])
	}
	// Both gave their slot back: a third import takes it at once.
	if err := (&Importer{DB: pool, MaxMerging: 1}).withSlot(ctx, func() error { return nil }); err != nil {
		t.Error(err)
	}
}
