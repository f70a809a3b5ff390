package data

import "fmt"

// lineError is an error at a line of a file, "path:line: message", the
// form compilers use, so that editors jump to it.
func lineError(path string, line int, format string, args ...any) error {
	return fmt.Errorf("%s:%d: %s", path, line, fmt.Sprintf(format, args...))
}
