package store

import (
	"context"
	"fmt"
)

// MayAlterAuditLog says whether the role db connects as may update, delete or truncate audit
// log rows: the schema owner may; the application role, drives_app, may not.
func MayAlterAuditLog(ctx context.Context, db DB) (bool, error) {
	var may bool
	if err := db.QueryRow(ctx, `select has_table_privilege('audit_log', 'UPDATE') or has_table_privilege('audit_log', 'DELETE')
		or has_table_privilege('audit_log', 'TRUNCATE')`).Scan(&may); err != nil {
		return false, fmt.Errorf("read the privileges on audit_log: %w", err)
	}
	return may, nil
}
