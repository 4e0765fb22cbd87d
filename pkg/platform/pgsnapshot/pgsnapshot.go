// Package pgsnapshot reads an environment's flags as the engine compiles them, from
// the PostgreSQL schema of migrations/: every live flag with its configuration in the
// environment. The evaluator loads snapshots with it, and the admin's playground reads
// the same thing, so both evaluate exactly the same data.
package pgsnapshot

import (
	"context"
	"database/sql"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"

	"gorm.io/gorm"

	"github.com/switchyard/switchyard/pkg/domain"
)

// jsonColumns is how many JSON columns a row has: variants, rules, default_serve,
// prerequisites.
const jsonColumns = 4

// batchRows is how many rows are scanned before their JSON is handed to a decoder.
const batchRows = 1024

// batch is rows scanned, whose JSON columns are still to decode: block holds them
// end to end, ends says where each ends.
type batch struct {
	flags []domain.FlagConfig
	block []byte
	ends  []int
	err   error
}

// Flags reads every live (not archived) flag of the project with its configuration in
// the environment, by key. Run it in the transaction that reads the environment's
// version (repeatable read), so that the version matches the content.
//
// Rows are scanned without reflection, in batches whose JSON columns decoders read
// while the next batch is scanned, on every processor, with a decoder that knows the
// columns' types (decode.go): decoding is most of the cost of a large environment.
// Batches keep each allocation small and sized once: appending ten thousand rows to
// one slice would allocate four times its final size as it grows. Rows are sorted
// here, by bytes as the engine sorts keys, rather than by PostgreSQL: sorting ten
// thousand rows with their JSON took it longer than the rest of the query (work_mem
// is small for rows this wide).
//
// Under a context marked by Background, batches are decoded by the reading goroutine
// itself.
func Flags(tx *gorm.DB, projectID, environmentID string) ([]domain.FlagConfig, error) {
	rows, err := tx.Raw(`SELECT f.id, f.key, f.name, f.kind, f.variants, f.salt, f.killed,
			c.enabled, c.rules, c.default_serve, c.off_variant, c.prerequisites, c.version
		FROM flags f JOIN flag_configs c ON c.flag_id = f.id AND c.environment_id = ?
		WHERE f.project_id = ? AND NOT f.archived`, environmentID, projectID).Rows()
	if err != nil {
		return nil, err
	}
	defer rows.Close()

	jobs := make(chan *batch)
	var wg sync.WaitGroup
	done := false
	finish := func() {
		if !done {
			done = true
			close(jobs)
			wg.Wait()
		}
	}
	defer finish() // on an early return too: no decoder outlives the read
	workers := 0
	var batches []*batch
	var (
		kind string
		raw  [jsonColumns]sql.RawBytes
	)
	cur := &batch{flags: make([]domain.FlagConfig, 0, batchRows), block: make([]byte, 0, 64<<10), ends: make([]int, 0, jsonColumns*batchRows)}
	// A load nobody waits for decodes on this goroutine alone: the other processors
	// stay with the requests being served.
	var inline *decoder
	if background, _ := tx.Statement.Context.Value(backgroundKey{}).(bool); background {
		inline = newDecoder()
	}
	send := func() {
		if inline != nil {
			cur.err = inline.batch(cur)
			cur.block, cur.ends = nil, nil
			batches = append(batches, cur)
			return
		}
		if workers < min(runtime.GOMAXPROCS(0), maxWorkers) {
			workers++
			wg.Add(1)
			go func() {
				defer wg.Done()
				d := newDecoder()
				for b := range jobs {
					b.err = d.batch(b)
					b.block, b.ends = nil, nil
				}
			}()
		}
		jobs <- cur
		batches = append(batches, cur)
	}
	for rows.Next() {
		var fc domain.FlagConfig
		if err := rows.Scan(&fc.Flag.ID, &fc.Flag.Key, &fc.Flag.Name, &kind, &raw[0], &fc.Flag.Salt, &fc.Flag.Killed,
			&fc.Config.Enabled, &raw[1], &raw[2], &fc.Config.OffVariant, &raw[3], &fc.Config.Version); err != nil {
			return nil, err
		}
		fc.Flag.Kind = domain.Kind(kind)
		for _, r := range raw {
			cur.block = append(cur.block, r...)
			cur.ends = append(cur.ends, len(cur.block))
		}
		cur.flags = append(cur.flags, fc)
		if len(cur.flags) == batchRows {
			size := len(cur.block)
			send()
			cur = &batch{flags: make([]domain.FlagConfig, 0, batchRows), block: make([]byte, 0, size+size/8), ends: make([]int, 0, jsonColumns*batchRows)}
		}
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if len(cur.flags) > 0 {
		send()
	}
	finish()
	type at struct{ batch, row int32 }
	n := 0
	for _, b := range batches {
		n += len(b.flags)
	}
	order := make([]at, 0, n)
	for i, b := range batches {
		if b.err != nil {
			return nil, b.err
		}
		for j := range b.flags {
			order = append(order, at{int32(i), int32(j)})
		}
	}
	slices.SortFunc(order, func(x, y at) int {
		return strings.Compare(batches[x.batch].flags[x.row].Flag.Key, batches[y.batch].flags[y.row].Flag.Key)
	})
	out := make([]domain.FlagConfig, len(order))
	for i, o := range order {
		out[i] = batches[o.batch].flags[o.row]
	}
	return out, nil
}

// maxWorkers bounds the decoders of one read.
const maxWorkers = 4

type backgroundKey struct{}

// Background marks ctx as a load nobody waits for (a revalidation in the
// background): Flags then decodes on one goroutine rather than on every processor,
// so that the load does not take the cores from the requests being served.
func Background(ctx context.Context) context.Context {
	return context.WithValue(ctx, backgroundKey{}, true)
}

// batch decodes the JSON columns of every flag of b.
func (d *decoder) batch(b *batch) error {
	start := 0
	for i := range b.flags {
		fc := &b.flags[i]
		for j, into := range [jsonColumns]any{&fc.Flag.Variants, &fc.Config.Rules, &fc.Config.Default, &fc.Config.Prerequisites} {
			end := b.ends[jsonColumns*i+j]
			if err := d.column(b.block[start:end], into); err != nil {
				return fmt.Errorf("flag %s: %w", fc.Flag.Key, err)
			}
			start = end
		}
	}
	return nil
}
