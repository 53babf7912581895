package train

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// ExtendRunDir locks the run directory path, finished or not, to continue
// it under cfg, the run's configuration with more epochs (see
// Trainer.Resume). A finished run first loses its summary, so that it reads
// as unfinished until the extended run finishes; then cfg replaces the
// configuration. A crash between the two leaves an unfinished run that
// -resume completes under its old epoch count.
func ExtendRunDir(path string, cfg *Config) (*RunDir, error) {
	if _, err := os.Stat(filepath.Join(path, ConfigFile)); err != nil {
		return nil, fmt.Errorf("resume: %s is not a run directory (no %s): %w", path, ConfigFile, ErrRunState)
	}
	d, err := lockRunDir(path)
	if err != nil {
		return nil, err
	}
	if err := os.Remove(d.File(SummaryFile)); err != nil && !errors.Is(err, os.ErrNotExist) {
		d.Close()
		return nil, fmt.Errorf("extend %s: %w", path, err)
	}
	if err := WriteConfig(d.File(ConfigFile), cfg); err != nil {
		d.Close()
		return nil, fmt.Errorf("extend %s: %w", path, err)
	}
	return d, nil
}
