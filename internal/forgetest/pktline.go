package forgetest

import (
	"fmt"
	"strconv"
)

// pktLine is one pkt-line: data, a flush-pkt, or protocol v2's
// delim-pkt.
type pktLine struct {
	data         []byte
	flush, delim bool
}

// splitPkts parses pkt-lines; ok is false if b is not made of them. A
// delim-pkt (0001) is one only with delims, as in a protocol v2 request.
func splitPkts(b []byte, delims bool) (pkts []pktLine, ok bool) {
	for len(b) > 0 {
		if len(b) < 4 {
			return nil, false
		}
		n, err := strconv.ParseUint(string(b[:4]), 16, 16)
		switch {
		case n == 1 && err == nil && delims:
			pkts = append(pkts, pktLine{delim: true})
			b = b[4:]
		case err != nil || n == 1 || n == 2 || n == 3 || int(n) > len(b):
			return nil, false
		case n == 0:
			pkts = append(pkts, pktLine{flush: true})
			b = b[4:]
		default:
			pkts = append(pkts, pktLine{data: b[4:n]})
			b = b[n:]
		}
	}
	return pkts, true
}

func appendPkt(out, data []byte) []byte {
	out = fmt.Appendf(out, "%04x", len(data)+4)
	return append(out, data...)
}
