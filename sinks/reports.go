package sinks

import (
	"github.com/goshawk-safety/goshawk/event"
)

// ReportCommentRow is the row id a report's comment is sealed for (the
// associated data, with the keyring's purpose label): "report:" and the
// report_id. The prefix keeps it apart from every flag id (32 hex digits),
// so that a flag's sealed evidence copied into a report's comment, or the
// other way round, does not open even when a producer chose a report_id
// that equals a flag id.
func ReportCommentRow(reportID string) string { return "report:" + reportID }

// ApplyReport returns the report as it is stored and the id of the key
// that sealed its comment ("" when the comment is plain or empty): the
// reporter's id replaced by its pseudonym (Pseudonyms), and the comment,
// free text from a user and as sensitive as message text, sealed under the
// active key for ReportCommentRow(r.ReportID) (Keys). r is not modified.
func (p Protection) ApplyReport(r event.Report) (event.Report, string, error) {
	if p.Pseudonyms != nil {
		r.ReporterID = p.Pseudonyms.Pseudonym(r.ReporterID)
	}
	if p.Keys == nil || r.Comment == "" {
		return r, "", nil
	}
	keyID, sealed, err := p.Keys.Seal(ReportCommentRow(r.ReportID), r.Comment)
	if err != nil {
		return r, "", err
	}
	r.Comment = sealed
	return r, keyID, nil
}
