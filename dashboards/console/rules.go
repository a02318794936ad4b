package console

import (
	"net/http"

	"github.com/goshawk-safety/goshawk/triage"
)

type ruleView struct {
	triage.RuleStats
	Precision float64
	HasValue  bool
}

func (c *Console) rules(w http.ResponseWriter, r *http.Request, p principal) {
	stats, err := c.o.Store.RulePrecision(r.Context())
	if err != nil {
		c.storeError(w, r, p, err)
		return
	}
	var v []ruleView
	for _, s := range stats {
		prec, ok := s.Precision()
		v = append(v, ruleView{RuleStats: s, Precision: prec, HasValue: ok})
	}
	pg := c.newPage(r, &p, "Rule precision", "rules")
	pg.Data = v
	c.render(w, http.StatusOK, "rules", pg)
}
