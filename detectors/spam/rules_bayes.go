package spam

import (
	"os"
	"strconv"
	"strings"

	"github.com/goshawk-safety/goshawk/detectors"
	"go.yaml.in/yaml/v3"
)

// maxBayesBands bounds the bands of the Bayes rule.
const maxBayesBands = 4

// SeedModel is the model field's value for the model shipped with the
// rules (bayes_seed.json).
const SeedModel = "seed"

type bandDoc struct {
	At      float64        `yaml:"at"`
	Weight  float64        `yaml:"weight"`
	Unknown map[string]any `yaml:",inline"`
}

// parseBayes reads a bayes rule: `model` (SeedModel, or the path of a
// model file that goshawk rules learn wrote) and `bands`, a list of {at,
// weight} with at a probability in [0.5, 1), rising, weights not falling.
// With load unset (the stages) the model is not read.
func parseBayes(f *detectors.RuleFields, d *ruleDoc, load bool) *bayesRule {
	r := f.Rule()
	b := &bayesRule{source: newSource(r)}
	model := SeedModel
	if d.Model.Kind != 0 {
		if m, ok := detectors.DecodeField[string](f, "model", &d.Model, `"seed" or the path of a model file`, "!!str"); ok {
			model = m
		}
	}
	b.bands = bayesBands(f, &d.Bands, b.source)
	if len(f.Errs()) > 0 {
		return nil
	}
	if load {
		data := bayesSeed
		if model != SeedModel {
			var err error
			if data, err = os.ReadFile(model); err != nil {
				f.Errorf("model", "%v", err)
				return nil
			}
		}
		m, err := ParseBayesModel(data)
		if err != nil {
			f.Errorf("model", "%s: %v", model, err)
			return nil
		}
		b.scorer = compileBayes(m)
	}
	return b
}

func bayesBands(f *detectors.RuleFields, n *yaml.Node, src source) []bayesBand {
	const want = "a list of {at, weight} (at a probability in [0.5, 1))"
	if n.Kind == 0 {
		f.Errorf("bands", "required: %s", want)
		return nil
	}
	if n.Kind != yaml.SequenceNode || len(n.Content) == 0 {
		f.Errorf("bands", "%s is not %s", detectors.DescribeNode(n), want)
		return nil
	}
	if len(n.Content) > maxBayesBands {
		f.Errorf("bands", "%d bands: at most %d", len(n.Content), maxBayesBands)
		return nil
	}
	var out []bayesBand
	for _, c := range n.Content {
		l, ok := strict(f, "bands", c, "a band {at, weight}", func(v *bandDoc) map[string]any { return v.Unknown })
		if !ok {
			return nil
		}
		w, ok := weightValue(f, "bands", l.Weight)
		if !ok {
			return nil
		}
		if !(l.At >= 0.5 && l.At < 1) {
			f.Errorf("bands", "at %g is not a probability in [0.5, 1)", l.At)
			return nil
		}
		if k := len(out); k > 0 && (l.At <= out[k-1].at || w < out[k-1].rule.weight) {
			f.Errorf("bands", "bands must rise: at %g (weight %g) after at %g", l.At, l.Weight, out[k-1].at)
			return nil
		}
		// bayes_95, bayes_99, bayes_999: SpamAssassin's names.
		pct := strings.TrimPrefix(strconv.FormatFloat(l.At, 'f', -1, 64), "0.")
		if len(pct) == 1 {
			pct += "0"
		}
		name := src.name + "_" + pct
		out = append(out, bayesBand{at: l.At, rule: &contentRule{
			source: source{id: src.id, name: name, shadow: src.shadow},
			key:    src.id + "/" + name, weight: w, statistical: true,
		}})
	}
	return out
}
