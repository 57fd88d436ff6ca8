package ec2emu

import (
	"encoding/base64"
	"hash/fnv"
	"strconv"
	"strings"
)

// Page sizes: what MaxResults accepts per action (AWS's API reference), and a token names the
// last id returned plus a signature of the request it continues.
var maxResultsRange = [numActions][2]int32{
	actDescribeFlowLogs:          {1, 1000},
	actDescribeNetworkInterfaces: {5, 1000},
	actDescribeSubnets:           {5, 1000},
	actDescribeVpcs:              {5, 1000},
	actDescribeInstances:         {5, 1000},
}

// signature identifies what a request lists (everything but the page position), so that a
// token is only honoured by the request it came from.
func (r *request) signature() uint64 {
	h := fnv.New64a()
	w := func(s string) {
		h.Write([]byte(strconv.Itoa(len(s))))
		h.Write([]byte{':'})
		h.Write([]byte(s))
	}
	w(actionNames[r.action])
	w(strconv.FormatBool(r.includeManage))
	for _, f := range r.filters {
		w("f")
		w(f.name)
		for _, v := range f.values {
			w(v)
		}
	}
	for _, id := range r.ids {
		w("i")
		w(id)
	}
	return h.Sum64()
}

func (s *Server) mac(body string) string {
	h := fnv.New64a()
	h.Write([]byte(strconv.FormatUint(s.secret, 16)))
	h.Write([]byte(body))
	return strconv.FormatUint(h.Sum64(), 16)
}

// makeToken returns the token continuing r after lastID. A nonce makes every token distinct, as
// AWS's are, so that clients that stop on a repeated token stay correct.
func (s *Server) makeToken(r *request, lastID string) string {
	nonce := strconv.FormatUint(uint64(s.randUint32()), 16)
	body := strings.Join([]string{"1", strconv.FormatUint(r.signature(), 16), nonce, lastID}, "|")
	return base64.RawURLEncoding.EncodeToString([]byte(body + "|" + s.mac(body)))
}

// readToken returns the last id a token continues after.
func (s *Server) readToken(r *request) (string, *APIError) {
	bad := invalidValue("Unable to parse pagination token")
	raw, err := base64.RawURLEncoding.DecodeString(r.nextToken)
	if err != nil {
		return "", bad
	}
	parts := strings.Split(string(raw), "|")
	if len(parts) != 5 || parts[0] != "1" {
		return "", bad
	}
	body := strings.Join(parts[:4], "|")
	if s.mac(body) != parts[4] {
		return "", bad
	}
	if parts[1] != strconv.FormatUint(r.signature(), 16) {
		return "", invalidValue("The pagination token does not match the request parameters")
	}
	return parts[3], nil
}

// limit checks MaxResults against the action's range and returns the page size (0: all).
func (r *request) limit() (int, *APIError) {
	if r.maxResults == 0 {
		return 0, nil
	}
	lo, hi := maxResultsRange[r.action][0], maxResultsRange[r.action][1]
	if r.maxResults < lo || r.maxResults > hi {
		return 0, invalidValue("Value ( %d ) for parameter maxResults is invalid. Expecting a value between %d and %d.", r.maxResults, lo, hi)
	}
	return int(r.maxResults), nil
}

// page selects the ids of one page: those after the token's position that match, at most the
// limit, sometimes fewer (Config.ShortPageProbability) while more remain. next is "" at the end.
func (s *Server) page(r *request, ids []string, match func(id string) (bool, *APIError)) (out []string, next string, apiErr *APIError) {
	n, apiErr := r.limit()
	if apiErr != nil {
		return nil, "", apiErr
	}
	after := ""
	if r.nextToken != "" {
		if after, apiErr = s.readToken(r); apiErr != nil {
			return nil, "", apiErr
		}
	}
	if n > 0 && s.cfg.ShortPageProbability > 0 && s.randFloat() < s.cfg.ShortPageProbability {
		n = 1 + s.randIntN(n)
	}
	for _, id := range ids {
		if after != "" && id <= after {
			continue
		}
		ok, apiErr := match(id)
		if apiErr != nil {
			return nil, "", apiErr
		}
		if !ok {
			continue
		}
		if n > 0 && len(out) == n {
			return out, s.makeToken(r, out[len(out)-1]), nil
		}
		out = append(out, id)
	}
	return out, "", nil
}
