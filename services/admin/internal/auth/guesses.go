package auth

import (
	"context"
	"strings"
	"time"

	"github.com/switchyard/switchyard/pkg/domain"
)

// Limiter counts events per key in a window (package ratelimit: in Redis, shared by
// every replica, per process while Redis is down).
type Limiter interface {
	Allow(ctx context.Context, key string) (bool, time.Duration)
	Blocked(ctx context.Context, key string) (bool, time.Duration)
	Reset(ctx context.Context, key string)
}

// Guesses limits password guesses: at login, and at the current password a password
// change asks for, which is the same secret and gets the same limits. Attempts are
// counted before the password is checked, so a burst of parallel guesses cannot slip
// past a limit while the hashes are computed:
//
//   - per client address: it bounds the hashing work one client can cause, whatever
//     accounts it tries;
//   - per account and address: one address can spend only a few of an account's
//     attempts, and a successful login gives that address its share back;
//   - per account, from all addresses: the account is protected from slow guessing
//     spread over many addresses, and locking its owner out takes as many addresses
//     as the account limit divided by the pair limit.
//
// The checks run in that order, each recording only once the one before has passed,
// so a client refused for its address spends nothing of anyone's account budget.
type Guesses struct {
	Address, Pair, Account Limiter
}

// MaxEmailLen bounds the emails the limits key on (RFC 5321's 254).
const MaxEmailLen = 254

func accountKey(email string) string { return strings.ToLower(strings.TrimSpace(email)) }

// Begin records an attempt by address at account and says whether it may go on: a 429
// naming the limit when not. A nil Guesses allows everything.
func (g *Guesses) Begin(ctx context.Context, account, address string) error {
	if g == nil {
		return nil
	}
	account = accountKey(account)
	if ok, wait := g.Address.Allow(ctx, address); !ok {
		return domain.RateLimited("too many password attempts from this address", wait)
	}
	if ok, wait := g.Pair.Allow(ctx, account+"\x00"+address); !ok {
		return domain.RateLimited("too many password attempts for this account from this address", wait)
	}
	if ok, wait := g.Account.Allow(ctx, account); !ok {
		return domain.RateLimited("too many password attempts for this account", wait)
	}
	return nil
}

// Succeeded gives address back its share of account: its owner got in.
func (g *Guesses) Succeeded(ctx context.Context, account, address string) {
	if g == nil {
		return
	}
	g.Pair.Reset(ctx, accountKey(account)+"\x00"+address)
}
