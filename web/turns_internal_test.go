package web

import (
	"context"
	"testing"
	"time"
)

// A bounded kind of work takes as many at once as it has places; the next waits, and is
// turned away when none comes free in time; a place given back is taken again.
func TestTurnsAreBounded(t *testing.T) {
	places := make(chan struct{}, 2)
	var held []func()
	for range 2 {
		release, ok := turn(context.Background(), places, time.Millisecond)
		if !ok {
			t.Fatal("a free place was refused")
		}
		held = append(held, release)
	}
	if _, ok := turn(context.Background(), places, 20*time.Millisecond); ok {
		t.Fatal("a third took a place of two")
	}
	held[0]()
	if _, ok := turn(context.Background(), places, time.Millisecond); !ok {
		t.Fatal("a place given back was not taken again")
	}
}
