package mirror

import (
	"context"
	"io"

	"github.com/go-git/go-git/v5/plumbing"
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
// (the target's upload-pack, the source's receive-pack) are those an
// earlier sync saw (capCache), or else asked for only if the leg fetches or
// pushes, so that a sync with nothing to carry that way costs no request.
func (s *syncer) reverseTransfer(adv sides, ans *answers) *transfer {
	t := &transfer{
		s: s, src: s.dst, dst: s.src, answers: ans,
		adv:     sides{src: refsOnly(adv.dst), dst: refsOnly(adv.src)},
		lazySrc: true, lazyDst: true,
	}
	if c := s.caps.get(t.src, uploadPack); c != nil {
		t.adv.src.Capabilities, t.lazySrc, t.remembered = c, false, true
	}
	if c := s.caps.get(t.dst, receivePack); c != nil {
		t.adv.dst.Capabilities, t.lazyDst, t.remembered = c, false, true
	}
	return t
}

// forgetCapabilities drops remembered capabilities this leg used, after it
// failed: they may be what made it fail, and the next sync asks again.
func (t *transfer) forgetCapabilities() {
	if t.remembered {
		t.s.caps.forget(t.src, uploadPack)
		t.s.caps.forget(t.dst, receivePack)
	}
}

func refsOnly(a *advRefs) *advRefs {
	return &advRefs{References: a.References, Peeled: a.Peeled, Capabilities: capability.NewList()}
}

// capabilities learns, both at once, the capabilities of the leg's
// services that listBoth did not read: its source's upload-pack and its
// target's receive-pack. Only the capabilities are taken; the refs stay
// those the plan was made from.
func (t *transfer) capabilities(ctx context.Context) error {
	if !t.lazySrc && !t.lazyDst {
		return nil
	}
	var srcCaps, dstCaps *capability.List
	err := concurrently(ctx,
		func(ctx context.Context) error {
			if !t.lazySrc {
				return nil
			}
			adv, err := t.src.advertise(ctx, uploadPack)
			if err == nil {
				srcCaps = adv.Capabilities
			}
			return err
		},
		func(ctx context.Context) error {
			if !t.lazyDst {
				return nil
			}
			adv, err := t.dst.advertise(ctx, receivePack)
			if err == nil {
				dstCaps = adv.Capabilities
			}
			return err
		})
	if err != nil {
		return err
	}
	if srcCaps != nil {
		t.adv.src.Capabilities, t.lazySrc = srcCaps, false
		t.s.caps.put(t.src, uploadPack, srcCaps)
	}
	if dstCaps != nil {
		t.adv.dst.Capabilities, t.lazyDst = dstCaps, false
		t.s.caps.put(t.dst, receivePack, dstCaps)
	}
	return nil
}

// fetch asks the leg's source for a pack. thin asks for a thin pack, which
// is sent only if the leg's target can complete one (it does not advertise
// no-thin); filter as remote.fetch.
func (t *transfer) fetch(ctx context.Context, wants, haves []plumbing.Hash, thin bool, filter string) (io.ReadCloser, bool, error) {
	if t.lazySrc || (thin && t.lazyDst) {
		if err := t.capabilities(ctx); err != nil {
			return nil, false, err
		}
	}
	thin = thin && !t.adv.dst.Capabilities.Supports(capNoThin)
	return t.src.fetch(ctx, t.adv.src.Capabilities, wants, haves, thin, filter)
}

// srcCaps returns the capabilities of the leg source's upload-pack, asked
// for first if the leg's refs came from the other service's listing.
func (t *transfer) srcCaps(ctx context.Context) (*capability.List, error) {
	if t.lazySrc {
		if err := t.capabilities(ctx); err != nil {
			return nil, err
		}
	}
	return t.adv.src.Capabilities, nil
}

// push sends ref updates and a pack to the leg's target.
func (t *transfer) push(ctx context.Context, cmds []command, pack io.Reader, size int64) (*pushReport, error) {
	if t.lazyDst {
		if err := t.capabilities(ctx); err != nil {
			return nil, err
		}
	}
	return t.dst.push(ctx, t.adv.dst.Capabilities, cmds, pack, size)
}
