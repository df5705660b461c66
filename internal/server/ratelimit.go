package server

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/neosc/neosc/internal/apperr"
	"github.com/neosc/neosc/internal/audit"
	"github.com/neosc/neosc/internal/auth"
	"github.com/neosc/neosc/internal/ratelimit"
)

// limitRequests applies the rate limits to /graphql, after authentication
// and without a statement: an anonymous request pays one unit of its
// address's budget at once; an authenticated one pays by points once its
// operation is priced (budget, below). Either way a caller with nothing
// left is refused here, before anything is parsed.
func limitRequests(l *ratelimit.Limiter, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		var req *ratelimit.Request
		if a := auth.ActorFrom(ctx); a != nil {
			req = l.Authenticated(a)
		} else {
			req = l.Anonymous(audit.RequestFrom(ctx).IP)
		}
		if req.Refused() {
			setRateLimitHeaders(w.Header(), req)
			ae, _ := apperr.As(req.Err())
			writeError(w, r, http.StatusTooManyRequests, ae)
			return
		}
		next.ServeHTTP(w, r.WithContext(ratelimit.WithRequest(ctx, req)))
	})
}

// budget charges an authenticated operation its points (by the complexity
// the ComplexityLimit extension computed, so it is registered after it), or
// refuses it with RATE_LIMITED before it runs.
type budget struct{}

var (
	_ graphql.HandlerExtension        = budget{}
	_ graphql.OperationContextMutator = budget{}
)

func (budget) ExtensionName() string                   { return "RateLimit" }
func (budget) Validate(graphql.ExecutableSchema) error { return nil }

func (budget) MutateOperationContext(ctx context.Context, rc *graphql.OperationContext) *gqlerror.Error {
	req := ratelimit.RequestFrom(ctx)
	if req == nil {
		return nil
	}
	complexity := 0
	if s, ok := rc.Stats.GetExtension("ComplexityLimit").(*extension.ComplexityStats); ok {
		complexity = s.Complexity
	}
	if err := req.Charge(ratelimit.Points(complexity)); err != nil {
		return gqlerror.WrapIfUnwrapped(err)
	}
	return nil
}

// finishRateLimit settles the request's budget (a request that never got
// priced pays a point), sets the RateLimit headers, and adds
// extensions.rateLimit {cost limit remaining resetAt} to the answer.
func finishRateLimit(ctx context.Context, h http.Header, resp *graphql.Response) {
	req := ratelimit.RequestFrom(ctx)
	if req == nil {
		return
	}
	req.Finish()
	setRateLimitHeaders(h, req)
	cost, res := req.Status()
	if resp.Extensions == nil {
		resp.Extensions = map[string]any{}
	}
	resp.Extensions["rateLimit"] = map[string]any{
		"cost":      cost,
		"limit":     res.Limit,
		"remaining": res.Remaining,
		"resetAt":   time.Now().Add(res.ResetAfter).UTC().Truncate(time.Second).Format(time.RFC3339),
	}
}

// setRateLimitHeaders writes the budget that binds the request, as
// draft-ietf-httpapi-ratelimit-headers-06 has it: RateLimit-Limit,
// RateLimit-Remaining, RateLimit-Reset (seconds until the bucket is full
// again) and RateLimit-Policy ("LIMIT;w=SECONDS").
func setRateLimitHeaders(h http.Header, req *ratelimit.Request) {
	_, res := req.Status()
	if res.Limit == 0 {
		return
	}
	h.Set("RateLimit-Limit", strconv.Itoa(res.Limit))
	h.Set("RateLimit-Remaining", strconv.Itoa(res.Remaining))
	h.Set("RateLimit-Reset", strconv.FormatInt(ceilSeconds(res.ResetAfter), 10))
	h.Set("RateLimit-Policy", strconv.Itoa(res.Limit)+";w="+strconv.FormatInt(ceilSeconds(res.Period), 10))
}

func ceilSeconds(d time.Duration) int64 { return int64((d + time.Second - 1) / time.Second) }
