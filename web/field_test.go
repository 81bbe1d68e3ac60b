package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"drives/accounts"
	"drives/web"
)

// The field batcher sends one count per campaign for every burst of entries: touches while a
// send is armed join it, and a touch after it arms the next. Shown failing by a batcher that
// arms a send per touch (100 sends).
func TestFieldBatcherCoalesces(t *testing.T) {
	var mu sync.Mutex
	sent := map[string]int{}
	done := make(chan string, 10)
	b := web.NewFieldBatcher(50*time.Millisecond, func(id string) {
		mu.Lock()
		sent[id]++
		mu.Unlock()
		done <- id
	})
	for range 100 {
		b.Touch("a-2021")
		b.Touch("b-2021")
	}
	got := []string{<-done, <-done}
	assert.ElementsMatch(t, []string{"a-2021", "b-2021"}, got)
	b.Touch("a-2021")
	assert.Equal(t, "a-2021", <-done)
	select {
	case id := <-done:
		t.Fatalf("an extra send for %s", id)
	case <-time.After(200 * time.Millisecond):
	}
	mu.Lock()
	defer mu.Unlock()
	assert.Equal(t, map[string]int{"a-2021": 2, "b-2021": 1}, sent)
}

// fieldEntries: an agent's phone sends through the API: only agents may, for their own
// campaign; a send names at most 100 entries; a walk-in enrolment recorded is in the
// database at once, and the campaign's workflow counts it into its progress soon after, in
// one Update for the burst (two sends, one fold). It runs in TestWeb, on its campaign.
func fieldEntries(t *testing.T, s *site) {
	ctx := context.Background()
	const token = "field-agent-token-0123456789abcdef"
	_, err := (&accounts.Store{DB: s.db}).Add(ctx, "test", accounts.Spec{Name: "field-agent", Role: accounts.RoleAgent,
		Agent: "DL-00001-2", Campaign: campaignID, Token: token})
	require.NoError(t, err)

	res := s.api(http.MethodGet, "/api/field/today", token, "", nil)
	require.Equal(t, http.StatusOK, res.StatusCode, res.Body)
	var today struct {
		Campaign struct{ ID, Status string }
		Agent    struct{ Code, Commune string }
		Choices  struct{ Villages []struct{ Code string } }
	}
	require.NoError(t, json.Unmarshal([]byte(res.Body), &today))
	assert.Equal(t, campaignID, today.Campaign.ID)
	assert.Equal(t, "DL-00001-2", today.Agent.Code)
	require.NotEmpty(t, today.Choices.Villages)

	p0, err := s.co.Progress(ctx, campaignID)
	require.NoError(t, err)
	before := map[string]int{}
	for _, d := range p0.Districts {
		before[d.Code] = d.Enrolled
	}
	folds := s.count(`select count(*) from audit_log where campaign_id = $1 and action = 'field.fold'`, campaignID)
	send := func(n int) response {
		body := fmt.Sprintf(`{"entries": [{"id": "11111111-2222-4333-8444-%012d", "kind": "enrolment", "citizen_id": "0010777%05d",
			"full_name": "Người Gặp %d", "phone": "09%08d", "village": %q, "group": "household_business",
			"monthly_income": 2500000, "subsidy_class": "other", "payment_mode": "monthly"}]}`, n, n, n, n, today.Choices.Villages[0].Code)
		return s.api(http.MethodPost, "/api/field/entries", token, "application/json", strings.NewReader(body))
	}
	for n := 1; n <= 2; n++ {
		res = send(n)
		require.Equal(t, http.StatusOK, res.StatusCode, res.Body)
		assert.Contains(t, res.Body, `"status": "recorded"`, res.Body)
	}
	assert.Equal(t, 2, s.count(`select count(*) from enrolments where campaign_id = $1 and citizen_id like '0010777%'`, campaignID),
		"in the database at once")
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		p, err := s.co.Progress(ctx, campaignID)
		if assert.NoError(c, err) {
			for _, d := range p.Districts {
				if d.Code == "001" {
					assert.Equal(c, before["001"]+2, d.Enrolled)
				}
			}
		}
	}, 20*time.Second, 100*time.Millisecond, "the workflow counted the field's enrolments")
	assert.Equal(t, folds+1, s.count(`select count(*) from audit_log where campaign_id = $1 and action = 'field.fold'`, campaignID),
		"one count for the burst")
	assert.Equal(t, 0, s.count(`select count(*) from field_entries where campaign_id = $1 and enrolled and folded_at is null`, campaignID))

	// Sent again: the same answer, nothing more.
	res = send(1)
	assert.Contains(t, res.Body, `"again": true`)

	// Refused before anything is read: no entries, too many, another campaign, not an agent.
	res = s.api(http.MethodPost, "/api/field/entries", token, "application/json", strings.NewReader(`{"entries": []}`))
	assert.Equal(t, http.StatusBadRequest, res.StatusCode)
	many := `{"entries": [` + strings.Repeat(`{"id": "x", "kind": "lead"},`, 100) + `{"id": "x", "kind": "lead"}]}`
	res = s.api(http.MethodPost, "/api/field/entries", token, "application/json", strings.NewReader(many))
	assert.Equal(t, http.StatusBadRequest, res.StatusCode)
	assert.Contains(t, res.Body, "at most 100 at once (101 sent)")
	res = s.api(http.MethodPost, "/api/field/entries", token, "application/json", strings.NewReader(`{"campaign": "other-2021", "entries": [{"id": "x"}]}`))
	assert.Equal(t, http.StatusNotFound, res.StatusCode)
	res = s.api(http.MethodGet, "/api/field/today", coordToken, "", nil)
	assert.Equal(t, http.StatusForbidden, res.StatusCode)
}
