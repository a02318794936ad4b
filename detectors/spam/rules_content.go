package spam

import (
	"strings"

	"github.com/goshawk-safety/goshawk/detectors"
	"github.com/goshawk-safety/goshawk/detectors/text"
	"go.yaml.in/yaml/v3"
)

type parsedContent struct {
	rule    *contentRule
	phrases []string
	frames  []string
	with    []string
}

func parseContent(f *detectors.RuleFields, d *ruleDoc, index int) *parsedContent {
	r := f.Rule()
	w := weight(f, "weight", &d.Weight, true)
	phrases, ok := detectors.DecodeField[[]string](f, "phrases", &d.Phrases, "a list of phrases")
	frames, fok := detectors.DecodeField[[]string](f, "frames", &d.Frames, "a list of frames (text.CompileFrames)")
	if d.Phrases.Kind == 0 && d.Frames.Kind == 0 {
		f.Errorf("phrases", "required: a list of phrases, or frames")
	}
	if ok && d.Phrases.Kind != 0 && len(phrases) == 0 {
		f.Errorf("phrases", "empty")
	}
	if fok && d.Frames.Kind != 0 && len(frames) == 0 {
		f.Errorf("frames", "empty: leave it out instead")
	}
	for _, spec := range frames {
		if _, err := text.CompileFrames([]string{spec}); err != nil {
			f.Errorf("frames", "%v", err)
		}
	}
	with, _ := detectors.DecodeField[[]string](f, "with", &d.With, "a list of phrases")
	if d.With.Kind != 0 && len(with) == 0 {
		f.Errorf("with", "empty: leave it out instead")
	}
	for field, list := range map[string][]string{"phrases": phrases, "with": with} {
		for _, p := range list {
			if _, err := text.NewMatcher([]string{p}); err != nil {
				f.Errorf(field, "%v", err)
			}
		}
	}
	if len(f.Errs()) > 0 {
		return nil
	}
	return &parsedContent{
		rule:    &contentRule{source: newSource(r), key: r.ID, weight: w, index: index, hasWith: len(with) > 0},
		phrases: phrases, frames: frames, with: with,
	}
}

type linkWeightsDoc struct {
	Shortener    *float64       `yaml:"shortener"`
	Punycode     *float64       `yaml:"punycode"`
	Lookalike    *float64       `yaml:"lookalike"`
	ManyLinks    *float64       `yaml:"many_links"`
	FirstContact *float64       `yaml:"first_contact"`
	Unknown      map[string]any `yaml:",inline"`
}

type brandDoc struct {
	Name    string         `yaml:"name"`
	Domains []string       `yaml:"domains"`
	Unknown map[string]any `yaml:",inline"`
}

func parseLinks(f *detectors.RuleFields, d *ruleDoc) *linksRule {
	l := &linksRule{source: newSource(f.Rule()), shorteners: map[string]bool{}}
	const wantWeights = "a mapping of shortener, punycode, lookalike, many_links, first_contact to weights"
	ws, ok := strict(f, "weights", &d.Weights, wantWeights, func(v *linkWeightsDoc) map[string]any { return v.Unknown })
	if d.Weights.Kind == 0 {
		f.Errorf("weights", "required: %s", wantWeights)
	}
	if ok {
		for _, w := range []struct {
			v   *float64
			dst *int64
		}{{ws.Shortener, &l.shortener}, {ws.Punycode, &l.punycode}, {ws.Lookalike, &l.lookalike}, {ws.ManyLinks, &l.many}, {ws.FirstContact, &l.firstContact}} {
			if w.v != nil {
				*w.dst, _ = weightValue(f, "weights", *w.v)
			}
		}
	}
	shorteners, _ := detectors.DecodeField[[]string](f, "shorteners", &d.Shorteners, "a list of host names")
	for _, h := range shorteners {
		h = strings.ToLower(strings.TrimSpace(h))
		if !validHost(h) {
			f.Errorf("shorteners", "%q is not a host name such as bit.ly", h)
			continue
		}
		l.shorteners[h] = true
	}
	if l.shortener > 0 && len(l.shorteners) == 0 {
		f.Errorf("shorteners", "required with a shortener weight")
	}
	var brands []brandDoc
	if d.Brands.Kind != 0 {
		if d.Brands.Kind != yaml.SequenceNode {
			f.Errorf("brands", "%s is not a list of {name, domains}", detectors.DescribeNode(&d.Brands))
		} else {
			for _, n := range d.Brands.Content {
				b, ok := strict(f, "brands", n, "a brand {name, domains}", func(v *brandDoc) map[string]any { return v.Unknown })
				if ok {
					brands = append(brands, b)
				}
			}
		}
	}
	for _, b := range brands {
		name := foldLabel(b.Name)
		if len(name) < 3 || name != b.Name || !isLowerAlnum(name) {
			f.Errorf("brands", "brand name %q: want a lower-case ASCII word of at least 3 letters", b.Name)
			continue
		}
		if len(b.Domains) == 0 {
			f.Errorf("brands", "brand %q: domains required", b.Name)
			continue
		}
		br := brand{name: name, skeleton: skeleton(name)}
		for _, dom := range b.Domains {
			dom = strings.ToLower(strings.TrimSpace(dom))
			if !validHost(dom) {
				f.Errorf("brands", "brand %q: %q is not a domain", b.Name, dom)
				continue
			}
			br.domains = append(br.domains, dom)
		}
		l.brands = append(l.brands, br)
	}
	if l.lookalike > 0 && len(l.brands) == 0 {
		f.Errorf("brands", "required with a lookalike weight")
	}
	l.manyLinks = count(f, "many_links", &d.ManyLinks, 2, 1000, 3)
	if len(f.Errs()) > 0 {
		return nil
	}
	return l
}
