package web

import (
	"context"
	"time"
)

// turn waits, at most wait, for one of the places of a bounded kind of work (a channel's
// capacity) and returns the function that gives it back; ok is false when none came free in
// time, or the request ended first.
func turn(ctx context.Context, places chan struct{}, wait time.Duration) (release func(), ok bool) {
	ctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	select {
	case places <- struct{}{}:
		return func() { <-places }, true
	case <-ctx.Done():
		return nil, false
	}
}
