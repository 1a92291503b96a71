package main

import (
	"fmt"
	"os"
	"text/template"

	"github.com/hardened-temporal/temporal-image/plugin/internal/serverconfig"
	"github.com/urfave/cli/v2"
	"go.temporal.io/server/common/dynamicconfig"
)

// renderConfigCommand prints the server config start would use (same location rules).
func renderConfigCommand(getenv func(string) string) *cli.Command {
	return &cli.Command{
		Name:      "render-config",
		Usage:     "Render server config template",
		ArgsUsage: " ",
		Action: func(c *cli.Context) error {
			loc, err := serverconfig.Resolve(configInputs(c, getenv))
			if err != nil {
				return cli.Exit("ERROR: "+err.Error(), 1)
			}
			cfg, err := loc.Load()
			if err != nil {
				return cli.Exit(err.Error(), 1)
			}
			fmt.Fprintln(c.App.Writer, cfg.String())
			return nil
		},
	}
}

// validateDynamicConfigCommand is upstream's, unchanged.
func validateDynamicConfigCommand() *cli.Command {
	return &cli.Command{
		Name:      "validate-dynamic-config",
		Usage:     "Validate a dynamic config file[s] with known keys and types",
		ArgsUsage: "<file> ...",
		Action: func(c *cli.Context) error {
			report := template.Must(template.New("").Parse(
				"{{range .Errors}}  error: {{.}}\n" +
					"{{end}}{{range .Warnings}}  warning: {{.}}\n" +
					"{{end}}",
			))
			total := 0
			for _, fileName := range c.Args().Slice() {
				contents, err := os.ReadFile(fileName)
				if err != nil {
					return err
				}
				result := dynamicconfig.LoadYamlFile(contents)
				total += len(result.Errors)
				fmt.Fprintln(c.App.Writer, fileName)
				_ = report.Execute(c.App.Writer, result)
			}
			if total > 0 {
				return fmt.Errorf("%d total errors", total)
			}
			return nil
		},
	}
}
