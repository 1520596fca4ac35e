package agent

// redecide decides Activity's rows again with the options just saved
// (engine.Redecide): at once, from what was recorded, without a request;
// the next sync copies what they no longer skip. The options are saved
// whatever happens here: a failure only leaves Activity as the last sync
// left it, until the next one.
func (a *Agent) redecide() {
	n, err := a.eng.Redecide(a.now())
	if err != nil {
		a.log.Warn("could not decide Activity again after a change of the options", "err", err)
		return
	}
	a.log.Info("Activity decided again after a change of the options", "rows", n)
}
