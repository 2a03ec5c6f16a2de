package db

import (
	"strconv"
	"strings"
	"sync"
)

// The queries are written once, in the SQL both engines read, with SQLite's
// ? and ?N placeholders. On PostgreSQL the querier rewrites them to $N and
// passes booleans as 0 and 1 (flags are integer columns on both engines, so
// literals such as disabled = 0 stay shared). The few statements that differ
// ask pg(q).

// engineOf is implemented by this package's queriers.
type engineOf interface{ postgres() bool }

// pg reports whether q runs on PostgreSQL.
func pg(q Querier) bool {
	e, ok := q.(engineOf)
	return ok && e.postgres()
}

var rebound sync.Map // query -> its PostgreSQL form

// rebind turns SQLite placeholders into PostgreSQL's: ?N becomes $N and each
// bare ? the next number. Quoted text and -- comments are left alone.
func rebind(query string) string {
	if v, ok := rebound.Load(query); ok {
		return v.(string)
	}
	var b strings.Builder
	b.Grow(len(query) + 8)
	n, quoted := 0, false
	for i := 0; i < len(query); i++ {
		c := query[i]
		switch {
		case c == '\'':
			quoted = !quoted
		case c == '-' && !quoted && strings.HasPrefix(query[i:], "--"):
			end := strings.IndexByte(query[i:], '\n')
			if end < 0 {
				end = len(query) - i
			}
			b.WriteString(query[i : i+end])
			i += end - 1
			continue
		case c == '?' && !quoted:
			j := i + 1
			for j < len(query) && query[j] >= '0' && query[j] <= '9' {
				j++
			}
			if j > i+1 {
				b.WriteString("$" + query[i+1:j])
			} else {
				n++
				b.WriteString("$" + strconv.Itoa(n))
			}
			i = j - 1
			continue
		}
		b.WriteByte(c)
	}
	out := b.String()
	rebound.Store(query, out)
	return out
}

// pgArgs passes booleans as the integers the flag columns hold; args is
// copied only when it holds one.
func pgArgs(args []any) []any {
	var out []any
	for i, a := range args {
		if v, ok := a.(bool); ok {
			if out == nil {
				out = append([]any(nil), args...)
			}
			out[i] = boolInt(v)
		}
	}
	if out == nil {
		return args
	}
	return out
}

func boolInt(v bool) int64 {
	if v {
		return 1
	}
	return 0
}
