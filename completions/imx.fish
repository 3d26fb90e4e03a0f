complete --keep-order --exclusive --command imx --arguments "(IMX_COMPLETE=fish imx -- (commandline --current-process --tokenize --cut-at-cursor) (commandline --current-token))"
