package integration

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	commonpb "go.temporal.io/api/common/v1"
	historypb "go.temporal.io/api/history/v1"
	updatepb "go.temporal.io/api/update/v1"
	"go.temporal.io/sdk/converter"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// exportedPayloads reads the histories of an export and returns every payload in them,
// wherever it sits in an event (inputs, results, Update arguments, memos, headers, failures'
// details), each decoded by dc (decrypted when the payload codec encrypted it) and rendered as
// JSON text: what a reader with the key would see.
func exportedPayloads(t *testing.T, dc converter.DataConverter, dir string, files []string) []string {
	t.Helper()
	var out []string
	for _, f := range files {
		b, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil {
			t.Fatal(err)
		}
		var h historypb.History
		if err := protojson.Unmarshal(b, &h); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		out = append(out, decodedPayloads(t, dc, f, &h)...)
	}
	return out
}

func decodedPayloads(t *testing.T, dc converter.DataConverter, where string, m proto.Message) []string {
	t.Helper()
	if dc == nil {
		dc = converter.GetDefaultDataConverter()
	}
	var out []string
	payloadName := (&commonpb.Payload{}).ProtoReflect().Descriptor().FullName()
	var walk func(m protoreflect.Message)
	walk = func(m protoreflect.Message) {
		if m.Descriptor().FullName() == payloadName {
			p := m.Interface().(*commonpb.Payload)
			var v any
			if err := dc.FromPayload(p, &v); err != nil {
				// A payload that cannot be decoded cannot be searched: that is a failure of the
				// check, never a pass.
				t.Fatalf("%s: a payload cannot be decoded (%v): the search for personal data would see only ciphertext", where, err)
			}
			js, err := json.Marshal(v)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, string(js))
			return
		}
		m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
			switch {
			case fd.IsList() && fd.Message() != nil:
				l := v.List()
				for i := 0; i < l.Len(); i++ {
					walk(l.Get(i).Message())
				}
			case fd.IsMap() && fd.MapValue().Message() != nil:
				v.Map().Range(func(_ protoreflect.MapKey, mv protoreflect.Value) bool {
					walk(mv.Message())
					return true
				})
			case fd.Message() != nil && !fd.IsList() && !fd.IsMap():
				walk(v.Message())
			}
			return true
		})
	}
	walk(m.ProtoReflect())
	return out
}

// personalDataIn names each piece of personal data found in the decoded payloads (by its
// kind and index in people, never by its value: a failing test must not print it either).
func personalDataIn(payloads []string, people []person) []string {
	var found []string
	all := []byte(fmt.Sprint(payloads))
	for i, p := range people {
		for kind, v := range map[string]string{"citizen ID": p.citizenID, "name": p.name, "phone": p.phone} {
			if v != "" && bytes.Contains(all, []byte(v)) {
				found = append(found, fmt.Sprintf("the %s of person %d", kind, i))
			}
		}
	}
	return found
}

// person is the personal data of one person of a run.
type person struct{ citizenID, name, phone string }

// plantedHistory is a history of two events whose payloads, encoded by dc, carry a name (in an
// Update's argument) and a citizen ID (in an activity's result).
func plantedHistory(t *testing.T, dc converter.DataConverter, name, citizenID string) *historypb.History {
	t.Helper()
	if dc == nil {
		dc = converter.GetDefaultDataConverter()
	}
	arg, err := dc.ToPayloads(map[string]string{"reason": "met " + name})
	if err != nil {
		t.Fatal(err)
	}
	res, err := dc.ToPayloads([]string{citizenID})
	if err != nil {
		t.Fatal(err)
	}
	return &historypb.History{Events: []*historypb.HistoryEvent{
		{EventId: 1, Attributes: &historypb.HistoryEvent_WorkflowExecutionUpdateAcceptedEventAttributes{
			WorkflowExecutionUpdateAcceptedEventAttributes: &historypb.WorkflowExecutionUpdateAcceptedEventAttributes{
				AcceptedRequest: &updatepb.Request{Input: &updatepb.Input{Name: "decide", Args: arg}},
			}}},
		{EventId: 2, Attributes: &historypb.HistoryEvent_ActivityTaskCompletedEventAttributes{
			ActivityTaskCompletedEventAttributes: &historypb.ActivityTaskCompletedEventAttributes{Result: res},
		}},
	}}
}
