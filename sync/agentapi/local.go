package agentapi

import (
	"context"

	"mailsync/sync/doctor"
	"mailsync/sync/engine"
	"mailsync/sync/words"
)

// WordsOf is err as the local API sends it: the API's own words (Worder)
// when it has them, else the error's text.
func WordsOf(api API, err error) string {
	if wd, ok := api.(Worder); ok {
		return wd.Words(err)
	}
	return err.Error()
}

// InProcess returns api for a caller in the same process, such as the
// command line when no agent runs: its errors read as the local API sends
// them (WordsOf), so a command says the same words whether it reached a
// running agent or opened one itself. The error still wraps the original,
// for the log.
func InProcess(api API) API { return inProcess{api} }

type inProcess struct{ api API }

func (p inProcess) err(err error) error {
	if err == nil {
		return nil
	}
	return words.Wrap(WordsOf(p.api, err), err)
}

func (p inProcess) Status(ctx context.Context) (engine.Status, error) {
	st, err := p.api.Status(ctx)
	return st, p.err(err)
}

func (p inProcess) Watch(ctx context.Context) (<-chan engine.Status, error) {
	ch, err := p.api.Watch(ctx)
	return ch, p.err(err)
}

func (p inProcess) SyncNow(ctx context.Context) error { return p.err(p.api.SyncNow(ctx)) }

func (p inProcess) Sync(ctx context.Context) (PassResult, error) {
	r, err := p.api.Sync(ctx)
	return r, p.err(err)
}

func (p inProcess) Pause(ctx context.Context) error  { return p.err(p.api.Pause(ctx)) }
func (p inProcess) Resume(ctx context.Context) error { return p.err(p.api.Resume(ctx)) }

func (p inProcess) Connect(ctx context.Context, openBrowser bool) (string, error) {
	u, err := p.api.Connect(ctx, openBrowser)
	return u, p.err(err)
}

func (p inProcess) CancelConnect(ctx context.Context) error { return p.err(p.api.CancelConnect(ctx)) }
func (p inProcess) Disconnect(ctx context.Context) error    { return p.err(p.api.Disconnect(ctx)) }

func (p inProcess) CRMLogin(ctx context.Context, username, password string) error {
	return p.err(p.api.CRMLogin(ctx, username, password))
}

func (p inProcess) CRMLogout(ctx context.Context) error { return p.err(p.api.CRMLogout(ctx)) }

func (p inProcess) Settings(ctx context.Context) (Settings, error) {
	s, err := p.api.Settings(ctx)
	return s, p.err(err)
}

func (p inProcess) SetSettings(ctx context.Context, s Settings) error {
	return p.err(p.api.SetSettings(ctx, s))
}

func (p inProcess) Setup(ctx context.Context) (Setup, error) {
	s, err := p.api.Setup(ctx)
	return s, p.err(err)
}

func (p inProcess) SetSetup(ctx context.Context, values map[string]string) error {
	return p.err(p.api.SetSetup(ctx, values))
}

func (p inProcess) Decisions(ctx context.Context, query string, limit int) ([]Decision, error) {
	d, err := p.api.Decisions(ctx, query, limit)
	return d, p.err(err)
}

func (p inProcess) Unsure(ctx context.Context) ([]engine.UnsureUpload, error) {
	u, err := p.api.Unsure(ctx)
	return u, p.err(err)
}

func (p inProcess) DecideUnsure(ctx context.Context, id string, copyAgain bool) error {
	return p.err(p.api.DecideUnsure(ctx, id, copyAgain))
}

func (p inProcess) ShowWindow(ctx context.Context) error { return p.err(p.api.ShowWindow(ctx)) }

func (p inProcess) Doctor(ctx context.Context) (doctor.Report, error) {
	r, err := p.api.Doctor(ctx)
	return r, p.err(err)
}

func (p inProcess) PreviewBackfill(ctx context.Context, days int) (engine.Backfill, error) {
	b, err := p.api.PreviewBackfill(ctx, days)
	return b, p.err(err)
}

func (p inProcess) StartBackfill(ctx context.Context, days int) error {
	return p.err(p.api.StartBackfill(ctx, days))
}

func (p inProcess) Backfill(ctx context.Context, days int) (engine.Backfill, error) {
	b, err := p.api.Backfill(ctx, days)
	return b, p.err(err)
}

func (p inProcess) CancelBackfill(ctx context.Context) error { return p.err(p.api.CancelBackfill(ctx)) }
