package mirror

import (
	"context"
	"io"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/protocol/packp"
	"github.com/go-git/go-git/v5/plumbing/protocol/packp/capability"
)

// newTransfer is the transfer from the syncer's source to its target, over
// what listBoth read: the source's upload-pack and the target's
// receive-pack advertisements.
func (s *syncer) newTransfer(adv sides, ans *answers) *transfer {
	return &transfer{s: s, src: s.src, dst: s.dst, adv: adv, answers: ans}
}

// reverseTransfer is a two-way sync's second leg, from the target to the
// source. Its refs are the ones listBoth read; the capabilities it needs
// (the target's upload-pack, the source's receive-pack) are asked for only
// if the leg fetches or pushes, so that a sync with nothing to carry that
// way costs no request.
func (s *syncer) reverseTransfer(adv sides, ans *answers) *transfer {
	return &transfer{
		s: s, src: s.dst, dst: s.src, answers: ans,
		adv:     sides{src: refsOnly(adv.dst), dst: refsOnly(adv.src)},
		lazySrc: true, lazyDst: true,
	}
}

func refsOnly(a *packp.AdvRefs) *packp.AdvRefs {
	return &packp.AdvRefs{References: a.References, Peeled: a.Peeled, Capabilities: capability.NewList()}
}

// fetch asks the leg's source for a pack.
func (t *transfer) fetch(ctx context.Context, wants, haves []plumbing.Hash, thin bool) (io.ReadCloser, bool, error) {
	if t.lazySrc {
		adv, err := t.src.advertise(ctx, uploadPack)
		if err != nil {
			return nil, false, err
		}
		t.adv.src.Capabilities, t.lazySrc = adv.Capabilities, false
	}
	return t.src.fetch(ctx, t.adv.src.Capabilities, wants, haves, thin)
}

// push sends ref updates and a pack to the leg's target.
func (t *transfer) push(ctx context.Context, cmds []command, pack io.Reader, size int64) (*pushReport, error) {
	if t.lazyDst {
		adv, err := t.dst.advertise(ctx, receivePack)
		if err != nil {
			return nil, err
		}
		t.adv.dst.Capabilities, t.lazyDst = adv.Capabilities, false
	}
	return t.dst.push(ctx, t.adv.dst.Capabilities, cmds, pack, size)
}
