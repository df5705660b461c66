package graph

// SetPlainRows turns the plain marshallers on or off and returns how many
// objects they have rendered so far.
func SetPlainRows(on bool) int64 {
	plainRowsOff.Store(!on)
	return plainRows.Load()
}
