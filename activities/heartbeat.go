package activities

import (
	"context"
	"time"

	"go.temporal.io/sdk/activity"
)

// HeartbeatTimeout is how long Temporal waits without a heartbeat before it takes a running
// attempt for lost (its worker killed or cut off) and retries it on another worker. Without
// it a lost attempt is noticed only when its whole start-to-close timeout (minutes) has run
// out, and the drive stands still meanwhile. The workflows set it on every activity.
const HeartbeatTimeout = 20 * time.Second

// heartbeatEvery is how often a running activity says it is alive (the SDK sends at most one
// heartbeat per 80% of the timeout).
const heartbeatEvery = 4 * time.Second

// keepAlive heartbeats until the returned stop is called: every activity runs under it, since
// its work (one transaction) reports no progress of its own. An activity done within
// heartbeatEvery sends none.
func keepAlive(ctx context.Context) (stop func()) {
	if !activity.IsActivity(ctx) {
		return func() {}
	}
	done := make(chan struct{})
	go func() {
		t := time.NewTicker(heartbeatEvery)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-ctx.Done():
				return
			case <-t.C:
				activity.RecordHeartbeat(ctx)
			}
		}
	}()
	return func() { close(done) }
}
