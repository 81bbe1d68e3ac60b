package codec_test

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"drives/codec"
	"drives/internal/devstack"
	"drives/internal/testenv"
)

// enrolWorkflow hands its input to an activity and returns what the activity made of it, so
// that personal data passes through every kind of payload: workflow input, activity input,
// activity result, workflow result.
func enrolWorkflow(ctx workflow.Context, p person) (string, error) {
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{StartToCloseTimeout: 10 * time.Second})
	var out string
	err := workflow.ExecuteActivity(ctx, enrolActivity, p).Get(ctx, &out)
	return out, err
}

func enrolActivity(_ context.Context, p person) (string, error) {
	return "enrolled " + p.FullName + " (" + p.CitizenID + ")", nil
}

const wantResult = "enrolled " + fullName + " (" + citizenID + ")"

// On a real dev server, a client and worker with the codec leave no personal data readable in
// the workflow's history, and read the result back; a client without the codec cannot.
func TestHistoryHoldsNoPersonalData(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a Temporal dev server")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	srv, err := testenv.StartDevServer(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Stop() })
	plain := srv.Client() // no codec

	k1 := newKey(t, "k1")
	c := newCodec(t, k1)
	dial := func(dc converter.DataConverter) client.Client {
		t.Helper()
		cl, err := client.DialContext(ctx, client.Options{
			HostPort: srv.FrontendHostPort(), Namespace: testenv.Namespace,
			DataConverter: dc, Logger: devstack.QuietLogger(),
		})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(cl.Close)
		return cl
	}
	startWorker := func(cl client.Client, queue string) worker.Worker {
		t.Helper()
		w := worker.New(cl, queue, worker.Options{})
		w.RegisterWorkflow(enrolWorkflow)
		w.RegisterActivity(enrolActivity)
		if err := w.Start(); err != nil {
			t.Fatal(err)
		}
		return w
	}
	run := func(cl client.Client, id, queue string) {
		t.Helper()
		r, err := cl.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: id, TaskQueue: queue}, enrolWorkflow, person{citizenID, fullName})
		if err != nil {
			t.Fatal(err)
		}
		var got string
		if err := r.Get(ctx, &got); err != nil {
			t.Fatalf("%s: %v", id, err)
		}
		if got != wantResult {
			t.Fatalf("%s: result %q, want %q", id, got, wantResult)
		}
	}

	// Control: without the codec the personal data is in the history, and the check finds it.
	w := startWorker(plain, "codec-test-plain")
	run(plain, "codec-test:plain", "codec-test-plain")
	w.Stop()
	raw := historyBytes(ctx, t, plain, "codec-test:plain")
	if !bytes.Contains(raw, []byte(citizenID)) || !bytes.Contains(raw, []byte(fullName)) {
		t.Fatal("control: the personal data is not found in an unencrypted history; the check below proves nothing")
	}

	// With the codec.
	keyed := dial(codec.DataConverter(c))
	w = startWorker(keyed, "codec-test")
	run(keyed, "codec-test:encrypted", "codec-test")
	w.Stop()

	raw = historyBytes(ctx, t, plain, "codec-test:encrypted")
	for _, secret := range []string{citizenID, fullName, "Nguy", "enrolled "} {
		if bytes.Contains(raw, []byte(secret)) {
			t.Errorf("%q is readable in the history fetched without the codec", secret)
		}
	}
	if n := bytes.Count(raw, []byte(codec.EncodingEncrypted)); n < 4 {
		t.Errorf("%d encrypted payloads in the history, want at least 4 (workflow and activity inputs and results)", n)
	}

	// With the codec, the result reads; without it, or with another key under k1, it does not.
	var got string
	if err := keyed.GetWorkflow(ctx, "codec-test:encrypted", "").Get(ctx, &got); err != nil || got != wantResult {
		t.Fatalf("result with the codec: %q, %v", got, err)
	}
	err = plain.GetWorkflow(ctx, "codec-test:encrypted", "").Get(ctx, &got)
	if err == nil || !strings.Contains(err.Error(), codec.EncodingEncrypted) {
		t.Fatalf("result without the codec: error %v, want one naming %s", err, codec.EncodingEncrypted)
	}
	wrong := dial(codec.DataConverter(newCodec(t, newKey(t, "k1"))))
	err = wrong.GetWorkflow(ctx, "codec-test:encrypted", "").Get(ctx, &got)
	if err == nil || !strings.Contains(err.Error(), `payload does not decrypt with key "k1": wrong key or altered data`) {
		t.Fatalf("result with a wrong k1: error %v", err)
	}

	// A worker that lacks the key fails the workflow task, not the workflow, and says which
	// key it lacks; once a worker with the key runs, the workflow completes.
	lacking := dial(codec.DataConverter(newCodec(t, newKey(t, "k0"))))
	wl := startWorker(lacking, "codec-test-rotate")
	r, err := keyed.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: "codec-test:lacking", TaskQueue: "codec-test-rotate"}, enrolWorkflow, person{citizenID, fullName})
	if err != nil {
		t.Fatal(err)
	}
	msg := waitTaskFailure(ctx, t, plain, "codec-test:lacking")
	wl.Stop()
	if want := `payload encrypted with key "k1", which this process does not have`; !strings.Contains(msg, want) {
		t.Fatalf("workflow task failure %q does not say %q", msg, want)
	}
	w = startWorker(dial(codec.DataConverter(newCodec(t, newKey(t, "k0"), k1))), "codec-test-rotate")
	defer w.Stop()
	if err := r.Get(ctx, &got); err != nil || got != wantResult {
		t.Fatalf("after a worker with the key started: %q, %v", got, err)
	}
}

// historyBytes is every event of the workflow's history as the service returns it, in the
// protobuf wire format (where payload data appear as they are stored) and as protojson.
func historyBytes(ctx context.Context, t *testing.T, c client.Client, id string) []byte {
	t.Helper()
	var buf bytes.Buffer
	it := c.GetWorkflowHistory(ctx, id, "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	n := 0
	for it.HasNext() {
		ev, err := it.Next()
		if err != nil {
			t.Fatalf("history of %s: %v", id, err)
		}
		n++
		appendEvent(t, &buf, ev)
	}
	if n == 0 {
		t.Fatalf("history of %s is empty", id)
	}
	return buf.Bytes()
}

func appendEvent(t *testing.T, buf *bytes.Buffer, ev *historypb.HistoryEvent) {
	t.Helper()
	wire, err := proto.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	js, err := protojson.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	buf.Write(wire)
	buf.WriteByte('\n')
	buf.Write(js)
	buf.WriteByte('\n')
}

// waitTaskFailure waits for a WorkflowTaskFailed event in the workflow's history and
// returns its failure message.
func waitTaskFailure(ctx context.Context, t *testing.T, c client.Client, id string) string {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for time.Now().Before(deadline) {
		it := c.GetWorkflowHistory(ctx, id, "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
		for it.HasNext() {
			ev, err := it.Next()
			if err != nil {
				t.Fatal(err)
			}
			if ev.GetEventType() == enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED {
				t.Fatalf("the workflow failed instead of its task: %v", ev.GetWorkflowExecutionFailedEventAttributes().GetFailure())
			}
			if a := ev.GetWorkflowTaskFailedEventAttributes(); a != nil {
				return a.GetFailure().GetMessage()
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("no workflow task of %s failed within a minute", id)
	return ""
}
