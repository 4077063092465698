// Portico: send a request again after a 429 (throttled, quota exceeded) or 503 answer.
//
// NewConfiguration sets HTTPClient to an http.Client on RetryTransport. It waits the seconds of the
// Retry-After header, or else an exponential backoff with jitter, up to MaxRetries times; a Retry-After
// longer than MaxRetryAfter (a quota that resets tonight) is returned at once. A request whose body
// cannot be read again (no GetBody) is not retried. The gateway refuses throttled requests before they
// reach the API, so retrying them is safe for every method. Set cfg.HTTPClient to change or drop it.

package __GO_PACKAGE__

import (
	"math/rand"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// RetryTransport is an http.RoundTripper that retries 429 and 503 answers.
type RetryTransport struct {
	Base          http.RoundTripper
	MaxRetries    int
	BaseDelay     time.Duration
	MaxDelay      time.Duration
	MaxRetryAfter time.Duration
}

// NewRetryTransport wraps base (http.DefaultTransport when nil) with Portico's default policy.
func NewRetryTransport(base http.RoundTripper) *RetryTransport {
	return &RetryTransport{
		Base:          base,
		MaxRetries:    3,
		BaseDelay:     500 * time.Millisecond,
		MaxDelay:      20 * time.Second,
		MaxRetryAfter: 60 * time.Second,
	}
}

// RoundTrip sends the request, and sends it again while the answer says to come back soon.
func (t *RetryTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	base := t.Base
	if base == nil {
		base = http.DefaultTransport
	}
	resp, err := base.RoundTrip(req)
	for retries := 0; err == nil; retries++ {
		wait, again := t.delay(resp, retries)
		if !again {
			return resp, nil
		}
		next := req.Clone(req.Context())
		if req.Body != nil && req.Body != http.NoBody {
			if req.GetBody == nil {
				return resp, nil
			}
			body, bodyErr := req.GetBody()
			if bodyErr != nil {
				return resp, nil
			}
			next.Body = body
		}
		resp.Body.Close()
		select {
		case <-time.After(wait):
		case <-req.Context().Done():
			return nil, req.Context().Err()
		}
		resp, err = base.RoundTrip(next)
	}
	return resp, err
}

func (t *RetryTransport) delay(resp *http.Response, retries int) (time.Duration, bool) {
	if resp.StatusCode != http.StatusTooManyRequests && resp.StatusCode != http.StatusServiceUnavailable {
		return 0, false
	}
	if retries >= t.MaxRetries {
		return 0, false
	}
	if value := strings.TrimSpace(resp.Header.Get("Retry-After")); value != "" {
		if seconds, err := strconv.Atoi(value); err == nil && seconds >= 0 {
			wait := time.Duration(seconds) * time.Second
			return wait, wait <= t.MaxRetryAfter
		}
		if when, err := http.ParseTime(value); err == nil {
			wait := time.Until(when)
			if wait < 0 {
				wait = 0
			}
			return wait, wait <= t.MaxRetryAfter
		}
	}
	ceiling := t.BaseDelay << uint(retries)
	if ceiling <= 0 || ceiling > t.MaxDelay {
		ceiling = t.MaxDelay
	}
	return ceiling/2 + time.Duration(rand.Int63n(int64(ceiling/2)+1)), true
}
