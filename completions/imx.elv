
set edit:completion:arg-completer[imx] = { |@words|
    var index = (count $words)
    set index = (- $index 1)

    put (env _CLAP_IFS="\n" _CLAP_COMPLETE_INDEX=(to-string $index) IMX_COMPLETE="elvish" imx -- $@words) | to-lines
}

