# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_imx_global_optspecs
    string join \n store= server= insecure context= o/output= q/quiet v/verbose no-color y/yes h/help V/version
end

function __fish_imx_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_imx_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_imx_using_subcommand
    set -l cmd (__fish_imx_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c imx -n "__fish_imx_needs_command" -l store -d 'The local store (a SQLite file) [default: ~/.local/share/imx/imx.db]' -r -F
complete -c imx -n "__fish_imx_needs_command" -l server -d 'A remote control plane: an `imx server` URL (token from IMX_TOKEN or `imx login`)' -r
complete -c imx -n "__fish_imx_needs_command" -l context -d 'Use a named context (see `imx context list`) instead of the current one' -r
complete -c imx -n "__fish_imx_needs_command" -s o -l output -d 'Output format for data on stdout; `template=TEXT` picks fields (see `imx help output`)' -r -f -a "table\t'Aligned columns for people (short ids, relative times)'
wide\t'The table with more columns (full ids, labels, ...)'
json\t'JSON: the model objects (times RFC 3339, durations in `*_ms`); lists are arrays, streams of records (run logs, audit tail) one object per line'
yaml\t'YAML: the same data as JSON'
csv\t'CSV: a header and the table\'s columns (full ids, RFC 3339 times)'
name\t'Bare ids or names, one per line'
template=\t'TEXT: a Jinja template per record, e.g. template=\'{{ id }} {{ status }}\''"
complete -c imx -n "__fish_imx_needs_command" -l insecure -d 'Allow a plain http:// server that is not on this machine: tokens and passwords cross the network in clear (a warning each time). Loopback needs no flag'
complete -c imx -n "__fish_imx_needs_command" -s q -l quiet -d 'Print only data and errors: no status lines, hints or progress'
complete -c imx -n "__fish_imx_needs_command" -s v -l verbose -d 'Say more (repeat for even more)'
complete -c imx -n "__fish_imx_needs_command" -l no-color -d 'No colour (also when NO_COLOR is set or output is not a terminal)'
complete -c imx -n "__fish_imx_needs_command" -s y -l yes -d 'Answer yes to confirmation prompts (needed for destructive commands in scripts)'
complete -c imx -n "__fish_imx_needs_command" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c imx -n "__fish_imx_needs_command" -s V -l version -d 'Print version'
complete -c imx -n "__fish_imx_needs_command" -f -a "init" -d 'Create the local store (idempotent)'
complete -c imx -n "__fish_imx_needs_command" -f -a "status" -d 'Show the control plane\'s state: agents, runs and steps by state'
complete -c imx -n "__fish_imx_needs_command" -f -a "workflow" -d 'Apply, inspect, validate, delete and run workflows'
complete -c imx -n "__fish_imx_needs_command" -f -a "run" -d 'List, inspect, follow, cancel and retry runs'
complete -c imx -n "__fish_imx_needs_command" -f -a "agent" -d 'Run a worker, and list, drain, resume or remove agents'
complete -c imx -n "__fish_imx_needs_command" -f -a "user" -d 'Create, list, change, disable and delete users; set passwords'
complete -c imx -n "__fish_imx_needs_command" -f -a "token" -d 'Create, list and revoke API tokens'
complete -c imx -n "__fish_imx_needs_command" -f -a "login" -d 'Log in to a control plane and keep the token (OS keyring, or a 0600 file)'
complete -c imx -n "__fish_imx_needs_command" -f -a "logout" -d 'Revoke and forget the token kept for a control plane'
complete -c imx -n "__fish_imx_needs_command" -f -a "whoami" -d 'Show who you act as, and where (the same as `imx auth status`)'
complete -c imx -n "__fish_imx_needs_command" -f -a "auth" -d 'Show your login (context, server, user, role, token expiry) and switch between logins'
complete -c imx -n "__fish_imx_needs_command" -f -a "context" -d 'Name local stores and remote servers, and switch between them'
complete -c imx -n "__fish_imx_needs_command" -f -a "server" -d 'Serve this store\'s control plane over HTTP for remote CLIs and agents'
complete -c imx -n "__fish_imx_needs_command" -f -a "dashboard" -d 'Watch agents, runs, workflows and the audit trail live in the terminal'
complete -c imx -n "__fish_imx_needs_command" -f -a "backup" -d 'Take, list, verify, restore and prune backups of the store'
complete -c imx -n "__fish_imx_needs_command" -f -a "audit" -d 'Read, verify, checkpoint, report on, export and prune the audit trail'
complete -c imx -n "__fish_imx_needs_command" -f -a "completions" -d 'Print shell completions to stdout'
complete -c imx -n "__fish_imx_needs_command" -f -a "man" -d 'Generate man pages'
complete -c imx -n "__fish_imx_needs_command" -f -a "help" -d 'Show help for a command, or a help topic (exit-codes, templates, output, workflow, environment, contexts)'
complete -c imx -n "__fish_imx_needs_command" -f -a "demo" -d 'Try imx in one command: a store, agents, example workflows and their runs'
complete -c imx -n "__fish_imx_using_subcommand init" -l admin -d 'Create this admin user and print a token for them (valid 90 days), once' -r
complete -c imx -n "__fish_imx_using_subcommand init" -l default-run-timeout -d 'Set the store\'s default run timeout: runs of workflows without `timeout:` (started without --timeout) time out after it [default: 24h]. `imx server --default-run-timeout` overrides it for runs started through that server' -r
complete -c imx -n "__fish_imx_using_subcommand init" -l store -d 'The local store (a SQLite file) [default: ~/.local/share/imx/imx.db]' -r -F
complete -c imx -n "__fish_imx_using_subcommand init" -l server -d 'A remote control plane: an `imx server` URL (token from IMX_TOKEN or `imx login`)' -r
complete -c imx -n "__fish_imx_using_subcommand init" -l context -d 'Use a named context (see `imx context list`) instead of the current one' -r
complete -c imx -n "__fish_imx_using_subcommand init" -s o -l output -d 'Output format for data on stdout; `template=TEXT` picks fields (see `imx help output`)' -r -f -a "table\t'Aligned columns for people (short ids, relative times)'
wide\t'The table with more columns (full ids, labels, ...)'
json\t'JSON: the model objects (times RFC 3339, durations in `*_ms`); lists are arrays, streams of records (run logs, audit tail) one object per line'
yaml\t'YAML: the same data as JSON'
csv\t'CSV: a header and the table\'s columns (full ids, RFC 3339 times)'
name\t'Bare ids or names, one per line'
template=\t'TEXT: a Jinja template per record, e.g. template=\'{{ id }} {{ status }}\''"
complete -c imx -n "__fish_imx_using_subcommand init" -l password-stdin -d 'Also set the admin\'s password (first line of stdin), for `imx login`'
complete -c imx -n "__fish_imx_using_subcommand init" -l insecure -d 'Allow a plain http:// server that is not on this machine: tokens and passwords cross the network in clear (a warning each time). Loopback needs no flag'
complete -c imx -n "__fish_imx_using_subcommand init" -s q -l quiet -d 'Print only data and errors: no status lines, hints or progress'
complete -c imx -n "__fish_imx_using_subcommand init" -s v -l verbose -d 'Say more (repeat for even more)'
complete -c imx -n "__fish_imx_using_subcommand init" -l no-color -d 'No colour (also when NO_COLOR is set or output is not a terminal)'
complete -c imx -n "__fish_imx_using_subcommand init" -s y -l yes -d 'Answer yes to confirmation prompts (needed for destructive commands in scripts)'
complete -c imx -n "__fish_imx_using_subcommand init" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c imx -n "__fish_imx_using_subcommand status" -l store -d 'The local store (a SQLite file) [default: ~/.local/share/imx/imx.db]' -r -F
complete -c imx -n "__fish_imx_using_subcommand status" -l server -d 'A remote control plane: an `imx server` URL (token from IMX_TOKEN or `imx login`)' -r
complete -c imx -n "__fish_imx_using_subcommand status" -l context -d 'Use a named context (see `imx context list`) instead of the current one' -r
complete -c imx -n "__fish_imx_using_subcommand status" -s o -l output -d 'Output format for data on stdout; `template=TEXT` picks fields (see `imx help output`)' -r -f -a "table\t'Aligned columns for people (short ids, relative times)'
wide\t'The table with more columns (full ids, labels, ...)'
json\t'JSON: the model objects (times RFC 3339, durations in `*_ms`); lists are arrays, streams of records (run logs, audit tail) one object per line'
yaml\t'YAML: the same data as JSON'
csv\t'CSV: a header and the table\'s columns (full ids, RFC 3339 times)'
name\t'Bare ids or names, one per line'
template=\t'TEXT: a Jinja template per record, e.g. template=\'{{ id }} {{ status }}\''"
complete -c imx -n "__fish_imx_using_subcommand status" -l insecure -d 'Allow a plain http:// server that is not on this machine: tokens and passwords cross the network in clear (a warning each time). Loopback needs no flag'
complete -c imx -n "__fish_imx_using_subcommand status" -s q -l quiet -d 'Print only data and errors: no status lines, hints or progress'
complete -c imx -n "__fish_imx_using_subcommand status" -s v -l verbose -d 'Say more (repeat for even more)'
complete -c imx -n "__fish_imx_using_subcommand status" -l no-color -d 'No colour (also when NO_COLOR is set or output is not a terminal)'
complete -c imx -n "__fish_imx_using_subcommand status" -s y -l yes -d 'Answer yes to confirmation prompts (needed for destructive commands in scripts)'
complete -c imx -n "__fish_imx_using_subcommand status" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c imx -n "__fish_imx_using_subcommand workflow; and not __fish_seen_subcommand_from apply list show diff validate delete run" -l store -d 'The local store (a SQLite file) [default: ~/.local/share/imx/imx.db]' -r -F
complete -c imx -n "__fish_imx_using_subcommand workflow; and not __fish_seen_subcommand_from apply list show diff validate delete run" -l server -d 'A remote control plane: an `imx server` URL (token from IMX_TOKEN or `imx login`)' -r
complete -c imx -n "__fish_imx_using_subcommand workflow; and not __fish_seen_subcommand_from apply list show diff validate delete run" -l context -d 'Use a named context (see `imx context list`) instead of the current one' -r
complete -c imx -n "__fish_imx_using_subcommand workflow; and not __fish_seen_subcommand_from apply list show diff validate delete run" -s o -l output -d 'Output format for data on stdout; `template=TEXT` picks fields (see `imx help output`)' -r -f -a "table\t'Aligned columns for people (short ids, relative times)'
wide\t'The table with more columns (full ids, labels, ...)'
json\t'JSON: the model objects (times RFC 3339, durations in `*_ms`); lists are arrays, streams of records (run logs, audit tail) one object per line'
yaml\t'YAML: the same data as JSON'
csv\t'CSV: a header and the table\'s columns (full ids, RFC 3339 times)'
name\t'Bare ids or names, one per line'
template=\t'TEXT: a Jinja template per record, e.g. template=\'{{ id }} {{ status }}\''"
complete -c imx -n "__fish_imx_using_subcommand workflow; and not __fish_seen_subcommand_from apply list show diff validate delete run" -l insecure -d 'Allow a plain http:// server that is not on this machine: tokens and passwords cross the network in clear (a warning each time). Loopback needs no flag'
complete -c imx -n "__fish_imx_using_subcommand workflow; and not __fish_seen_subcommand_from apply list show diff validate delete run" -s q -l quiet -d 'Print only data and errors: no status lines, hints or progress'
complete -c imx -n "__fish_imx_using_subcommand workflow; and not __fish_seen_subcommand_from apply list show diff validate delete run" -s v -l verbose -d 'Say more (repeat for even more)'
complete -c imx -n "__fish_imx_using_subcommand workflow; and not __fish_seen_subcommand_from apply list show diff validate delete run" -l no-color -d 'No colour (also when NO_COLOR is set or output is not a terminal)'
complete -c imx -n "__fish_imx_using_subcommand workflow; and not __fish_seen_subcommand_from apply list show diff validate delete run" -s y -l yes -d 'Answer yes to confirmation prompts (needed for destructive commands in scripts)'
complete -c imx -n "__fish_imx_using_subcommand workflow; and not __fish_seen_subcommand_from apply list show diff validate delete run" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c imx -n "__fish_imx_using_subcommand workflow; and not __fish_seen_subcommand_from apply list show diff validate delete run" -f -a "apply" -d 'Create or update workflows from files (a new version when a file changed)'
complete -c imx -n "__fish_imx_using_subcommand workflow; and not __fish_seen_subcommand_from apply list show diff validate delete run" -f -a "list" -d 'List workflows (latest versions)'
complete -c imx -n "__fish_imx_using_subcommand workflow; and not __fish_seen_subcommand_from apply list show diff validate delete run" -f -a "show" -d 'Show a workflow: its params and steps'
complete -c imx -n "__fish_imx_using_subcommand workflow; and not __fish_seen_subcommand_from apply list show diff validate delete run" -f -a "diff" -d 'Show what changed between two versions (a unified diff of their files)'
complete -c imx -n "__fish_imx_using_subcommand workflow; and not __fish_seen_subcommand_from apply list show diff validate delete run" -f -a "validate" -d 'Check workflow files without a store; reports every problem as file:line:col'
complete -c imx -n "__fish_imx_using_subcommand workflow; and not __fish_seen_subcommand_from apply list show diff validate delete run" -f -a "delete" -d 'Delete a workflow and all its versions (past runs keep their history)'
complete -c imx -n "__fish_imx_using_subcommand workflow; and not __fish_seen_subcommand_from apply list show diff validate delete run" -f -a "run" -d 'Start a run of a workflow, optionally waiting for it to end'
complete -c imx -n "__fish_imx_using_subcommand workflow; and __fish_seen_subcommand_from apply" -s f -l file -d 'A workflow file, or a folder of *.yaml/*.yml/*.json files; `-` reads stdin. Repeatable' -r -F
complete -c imx -n "__fish_imx_using_subcommand workflow; and __fish_seen_subcommand_from apply" -l store -d 'The local store (a SQLite file) [default: ~/.local/share/imx/imx.db]' -r -F
complete -c imx -n "__fish_imx_using_subcommand workflow; and __fish_seen_subcommand_from apply" -l server -d 'A remote control plane: an `imx server` URL (token from IMX_TOKEN or `imx login`)' -r
complete -c imx -n "__fish_imx_using_subcommand workflow; and __fish_seen_subcommand_from apply" -l context -d 'Use a named context (see `imx context list`) instead of the current one' -r
complete -c imx -n "__fish_imx_using_subcommand workflow; and __fish_seen_subcommand_from apply" -s o -l output -d 'Output format for data on stdout; `template=TEXT` picks fields (see `imx help output`)' -r -f -a "table\t'Aligned columns for people (short ids, relative times)'
wide\t'The table with more columns (full ids, labels, ...)'
json\t'JSON: the model objects (times RFC 3339, durations in `*_ms`); lists are arrays, streams of records (run logs, audit tail) one object per line'
yaml\t'YAML: the same data as JSON'
csv\t'CSV: a header and the table\'s columns (full ids, RFC 3339 times)'
name\t'Bare ids or names, one per line'
template=\t'TEXT: a Jinja template per record, e.g. template=\'{{ id }} {{ status }}\''"
complete -c imx -n "__fish_imx_using_subcommand workflow; and __fish_seen_subcommand_from apply" -l dry-run -d 'Validate and show what would change (a diff per changed workflow), changing nothing'
complete -c imx -n "__fish_imx_using_subcommand workflow; and __fish_seen_subcommand_from apply" -l insecure -d 'Allow a plain http:// server that is not on this machine: tokens and passwords cross the network in clear (a warning each time). Loopback needs no flag'
complete -c imx -n "__fish_imx_using_subcommand workflow; and __fish_seen_subcommand_from apply" -s q -l quiet -d 'Print only data and errors: no status lines, hints or progress'
complete -c imx -n "__fish_imx_using_subcommand workflow; and __fish_seen_subcommand_from apply" -s v -l verbose -d 'Say more (repeat for even more)'
complete -c imx -n "__fish_imx_using_subcommand workflow; and __fish_seen_subcommand_from apply" -l no-color -d 'No colour (also when NO_COLOR is set or output is not a terminal)'
complete -c imx -n "__fish_imx_using_subcommand workflow; and __fish_seen_subcommand_from apply" -s y -l yes -d 'Answer yes to confirmation prompts (needed for destructive commands in scripts)'
complete -c imx -n "__fish_imx_using_subcommand workflow; and __fish_seen_subcommand_from apply" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c imx -n "__fish_imx_using_subcommand workflow; and __fish_seen_subcommand_from list" -l store -d 'The local store (a SQLite file) [default: ~/.local/share/imx/imx.db]' -r -F
complete -c imx -n "__fish_imx_using_subcommand workflow; and __fish_seen_subcommand_from list" -l server -d 'A remote control plane: an `imx server` URL (token from IMX_TOKEN or `imx login`)' -r
complete -c imx -n "__fish_imx_using_subcommand workflow; and __fish_seen_subcommand_from list" -l context -d 'Use a named context (see `imx context list`) instead of the current one' -r
complete -c imx -n "__fish_imx_using_subcommand workflow; and __fish_seen_subcommand_from list" -s o -l output -d 'Output format for data on stdout; `template=TEXT` picks fields (see `imx help output`)' -r -f -a "table\t'Aligned columns for people (short ids, relative times)'
wide\t'The table with more columns (full ids, labels, ...)'
json\t'JSON: the model objects (times RFC 3339, durations in `*_ms`); lists are arrays, streams of records (run logs, audit tail) one object per line'
yaml\t'YAML: the same data as JSON'
csv\t'CSV: a header and the table\'s columns (full ids, RFC 3339 times)'
name\t'Bare ids or names, one per line'
template=\t'TEXT: a Jinja template per record, e.g. template=\'{{ id }} {{ status }}\''"
complete -c imx -n "__fish_imx_using_subcommand workflow; and __fish_seen_subcommand_from list" -l insecure -d 'Allow a plain http:// server that is not on this machine: tokens and passwords cross the network in clear (a warning each time). Loopback needs no flag'
complete -c imx -n "__fish_imx_using_subcommand workflow; and __fish_seen_subcommand_from list" -s q -l quiet -d 'Print only data and errors: no status lines, hints or progress'
complete -c imx -n "__fish_imx_using_subcommand workflow; and __fish_seen_subcommand_from list" -s v -l verbose -d 'Say more (repeat for even more)'
complete -c imx -n "__fish_imx_using_subcommand workflow; and __fish_seen_subcommand_from list" -l no-color -d 'No colour (also when NO_COLOR is set or output is not a terminal)'
complete -c imx -n "__fish_imx_using_subcommand workflow; and __fish_seen_subcommand_from list" -s y -l yes -d 'Answer yes to confirmation prompts (needed for destructive commands in scripts)'
complete -c imx -n "__fish_imx_using_subcommand workflow; and __fish_seen_subcommand_from list" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c imx -n "__fish_imx_using_subcommand workflow; and __fish_seen_subcommand_from show" -l version -d 'A past version (default: the latest)' -r
complete -c imx -n "__fish_imx_using_subcommand workflow; and __fish_seen_subcommand_from show" -l store -d 'The local store (a SQLite file) [default: ~/.local/share/imx/imx.db]' -r -F
complete -c imx -n "__fish_imx_using_subcommand workflow; and __fish_seen_subcommand_from show" -l server -d 'A remote control plane: an `imx server` URL (token from IMX_TOKEN or `imx login`)' -r
complete -c imx -n "__fish_imx_using_subcommand workflow; and __fish_seen_subcommand_from show" -l context -d 'Use a named context (see `imx context list`) instead of the current one' -r
complete -c imx -n "__fish_imx_using_subcommand workflow; and __fish_seen_subcommand_from show" -s o -l output -d 'Output format for data on stdout; `template=TEXT` picks fields (see `imx help output`)' -r -f -a "table\t'Aligned columns for people (short ids, relative times)'
wide\t'The table with more columns (full ids, labels, ...)'
json\t'JSON: the model objects (times RFC 3339, durations in `*_ms`); lists are arrays, streams of records (run logs, audit tail) one object per line'
yaml\t'YAML: the same data as JSON'
csv\t'CSV: a header and the table\'s columns (full ids, RFC 3339 times)'
name\t'Bare ids or names, one per line'
template=\t'TEXT: a Jinja template per record, e.g. template=\'{{ id }} {{ status }}\''"
complete -c imx -n "__fish_imx_using_subcommand workflow; and __fish_seen_subcommand_from show" -l insecure -d 'Allow a plain http:// server that is not on this machine: tokens and passwords cross the network in clear (a warning each time). Loopback needs no flag'
complete -c imx -n "__fish_imx_using_subcommand workflow; and __fish_seen_subcommand_from show" -s q -l quiet -d 'Print only data and errors: no status lines, hints or progress'
complete -c imx -n "__fish_imx_using_subcommand workflow; and __fish_seen_subcommand_from show" -s v -l verbose -d 'Say more (repeat for even more)'
complete -c imx -n "__fish_imx_using_subcommand workflow; and __fish_seen_subcommand_from show" -l no-color -d 'No colour (also when NO_COLOR is set or output is not a terminal)'
complete -c imx -n "__fish_imx_using_subcommand workflow; and __fish_seen_subcommand_from show" -s y -l yes -d 'Answer yes to confirmation prompts (needed for destructive commands in scripts)'
complete -c imx -n "__fish_imx_using_subcommand workflow; and __fish_seen_subcommand_from show" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c imx -n "__fish_imx_using_subcommand workflow; and __fish_seen_subcommand_from diff" -l from -d 'The older version (default: the one before --to)' -r
complete -c imx -n "__fish_imx_using_subcommand workflow; and __fish_seen_subcommand_from diff" -l to -d 'The newer version (default: the latest)' -r
complete -c imx -n "__fish_imx_using_subcommand workflow; and __fish_seen_subcommand_from diff" -l store -d 'The local store (a SQLite file) [default: ~/.local/share/imx/imx.db]' -r -F
complete -c imx -n "__fish_imx_using_subcommand workflow; and __fish_seen_subcommand_from diff" -l server -d 'A remote control plane: an `imx server` URL (token from IMX_TOKEN or `imx login`)' -r
complete -c imx -n "__fish_imx_using_subcommand workflow; and __fish_seen_subcommand_from diff" -l context -d 'Use a named context (see `imx context list`) instead of the current one' -r
complete -c imx -n "__fish_imx_using_subcommand workflow; and __fish_seen_subcommand_from diff" -s o -l output -d 'Output format for data on stdout; `template=TEXT` picks fields (see `imx help output`)' -r -f -a "table\t'Aligned columns for people (short ids, relative times)'
wide\t'The table with more columns (full ids, labels, ...)'
json\t'JSON: the model objects (times RFC 3339, durations in `*_ms`); lists are arrays, streams of records (run logs, audit tail) one object per line'
yaml\t'YAML: the same data as JSON'
csv\t'CSV: a header and the table\'s columns (full ids, RFC 3339 times)'
name\t'Bare ids or names, one per line'
template=\t'TEXT: a Jinja template per record, e.g. template=\'{{ id }} {{ status }}\''"
complete -c imx -n "__fish_imx_using_subcommand workflow; and __fish_seen_subcommand_from diff" -l insecure -d 'Allow a plain http:// server that is not on this machine: tokens and passwords cross the network in clear (a warning each time). Loopback needs no flag'
complete -c imx -n "__fish_imx_using_subcommand workflow; and __fish_seen_subcommand_from diff" -s q -l quiet -d 'Print only data and errors: no status lines, hints or progress'
complete -c imx -n "__fish_imx_using_subcommand workflow; and __fish_seen_subcommand_from diff" -s v -l verbose -d 'Say more (repeat for even more)'
complete -c imx -n "__fish_imx_using_subcommand workflow; and __fish_seen_subcommand_from diff" -l no-color -d 'No colour (also when NO_COLOR is set or output is not a terminal)'
complete -c imx -n "__fish_imx_using_subcommand workflow; and __fish_seen_subcommand_from diff" -s y -l yes -d 'Answer yes to confirmation prompts (needed for destructive commands in scripts)'
complete -c imx -n "__fish_imx_using_subcommand workflow; and __fish_seen_subcommand_from diff" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c imx -n "__fish_imx_using_subcommand workflow; and __fish_seen_subcommand_from validate" -s f -l file -d 'A workflow file, or a folder of them; `-` reads stdin. Repeatable' -r -F
complete -c imx -n "__fish_imx_using_subcommand workflow; and __fish_seen_subcommand_from validate" -l store -d 'The local store (a SQLite file) [default: ~/.local/share/imx/imx.db]' -r -F
complete -c imx -n "__fish_imx_using_subcommand workflow; and __fish_seen_subcommand_from validate" -l server -d 'A remote control plane: an `imx server` URL (token from IMX_TOKEN or `imx login`)' -r
complete -c imx -n "__fish_imx_using_subcommand workflow; and __fish_seen_subcommand_from validate" -l context -d 'Use a named context (see `imx context list`) instead of the current one' -r
complete -c imx -n "__fish_imx_using_subcommand workflow; and __fish_seen_subcommand_from validate" -s o -l output -d 'Output format for data on stdout; `template=TEXT` picks fields (see `imx help output`)' -r -f -a "table\t'Aligned columns for people (short ids, relative times)'
wide\t'The table with more columns (full ids, labels, ...)'
json\t'JSON: the model objects (times RFC 3339, durations in `*_ms`); lists are arrays, streams of records (run logs, audit tail) one object per line'
yaml\t'YAML: the same data as JSON'
csv\t'CSV: a header and the table\'s columns (full ids, RFC 3339 times)'
name\t'Bare ids or names, one per line'
template=\t'TEXT: a Jinja template per record, e.g. template=\'{{ id }} {{ status }}\''"
complete -c imx -n "__fish_imx_using_subcommand workflow; and __fish_seen_subcommand_from validate" -l insecure -d 'Allow a plain http:// server that is not on this machine: tokens and passwords cross the network in clear (a warning each time). Loopback needs no flag'
complete -c imx -n "__fish_imx_using_subcommand workflow; and __fish_seen_subcommand_from validate" -s q -l quiet -d 'Print only data and errors: no status lines, hints or progress'
complete -c imx -n "__fish_imx_using_subcommand workflow; and __fish_seen_subcommand_from validate" -s v -l verbose -d 'Say more (repeat for even more)'
complete -c imx -n "__fish_imx_using_subcommand workflow; and __fish_seen_subcommand_from validate" -l no-color -d 'No colour (also when NO_COLOR is set or output is not a terminal)'
complete -c imx -n "__fish_imx_using_subcommand workflow; and __fish_seen_subcommand_from validate" -s y -l yes -d 'Answer yes to confirmation prompts (needed for destructive commands in scripts)'
complete -c imx -n "__fish_imx_using_subcommand workflow; and __fish_seen_subcommand_from validate" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c imx -n "__fish_imx_using_subcommand workflow; and __fish_seen_subcommand_from delete" -l store -d 'The local store (a SQLite file) [default: ~/.local/share/imx/imx.db]' -r -F
complete -c imx -n "__fish_imx_using_subcommand workflow; and __fish_seen_subcommand_from delete" -l server -d 'A remote control plane: an `imx server` URL (token from IMX_TOKEN or `imx login`)' -r
complete -c imx -n "__fish_imx_using_subcommand workflow; and __fish_seen_subcommand_from delete" -l context -d 'Use a named context (see `imx context list`) instead of the current one' -r
complete -c imx -n "__fish_imx_using_subcommand workflow; and __fish_seen_subcommand_from delete" -s o -l output -d 'Output format for data on stdout; `template=TEXT` picks fields (see `imx help output`)' -r -f -a "table\t'Aligned columns for people (short ids, relative times)'
wide\t'The table with more columns (full ids, labels, ...)'
json\t'JSON: the model objects (times RFC 3339, durations in `*_ms`); lists are arrays, streams of records (run logs, audit tail) one object per line'
yaml\t'YAML: the same data as JSON'
csv\t'CSV: a header and the table\'s columns (full ids, RFC 3339 times)'
name\t'Bare ids or names, one per line'
template=\t'TEXT: a Jinja template per record, e.g. template=\'{{ id }} {{ status }}\''"
complete -c imx -n "__fish_imx_using_subcommand workflow; and __fish_seen_subcommand_from delete" -l insecure -d 'Allow a plain http:// server that is not on this machine: tokens and passwords cross the network in clear (a warning each time). Loopback needs no flag'
complete -c imx -n "__fish_imx_using_subcommand workflow; and __fish_seen_subcommand_from delete" -s q -l quiet -d 'Print only data and errors: no status lines, hints or progress'
complete -c imx -n "__fish_imx_using_subcommand workflow; and __fish_seen_subcommand_from delete" -s v -l verbose -d 'Say more (repeat for even more)'
complete -c imx -n "__fish_imx_using_subcommand workflow; and __fish_seen_subcommand_from delete" -l no-color -d 'No colour (also when NO_COLOR is set or output is not a terminal)'
complete -c imx -n "__fish_imx_using_subcommand workflow; and __fish_seen_subcommand_from delete" -s y -l yes -d 'Answer yes to confirmation prompts (needed for destructive commands in scripts)'
complete -c imx -n "__fish_imx_using_subcommand workflow; and __fish_seen_subcommand_from delete" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c imx -n "__fish_imx_using_subcommand workflow; and __fish_seen_subcommand_from run" -s p -l param -d 'A parameter, KEY=VALUE (repeatable); typed and checked against the workflow\'s params' -r
complete -c imx -n "__fish_imx_using_subcommand workflow; and __fish_seen_subcommand_from run" -l timeout -d 'The run\'s deadline (overrides the workflow\'s timeout): when it passes, the run is timed out and its steps are stopped, e.g. 30s, 10m, 1h' -r
complete -c imx -n "__fish_imx_using_subcommand workflow; and __fish_seen_subcommand_from run" -l wait-timeout -d 'Follow the run (implies --wait), but give up waiting after this long: exit 13, and the run goes on' -r
complete -c imx -n "__fish_imx_using_subcommand workflow; and __fish_seen_subcommand_from run" -l store -d 'The local store (a SQLite file) [default: ~/.local/share/imx/imx.db]' -r -F
complete -c imx -n "__fish_imx_using_subcommand workflow; and __fish_seen_subcommand_from run" -l server -d 'A remote control plane: an `imx server` URL (token from IMX_TOKEN or `imx login`)' -r
complete -c imx -n "__fish_imx_using_subcommand workflow; and __fish_seen_subcommand_from run" -l context -d 'Use a named context (see `imx context list`) instead of the current one' -r
complete -c imx -n "__fish_imx_using_subcommand workflow; and __fish_seen_subcommand_from run" -s o -l output -d 'Output format for data on stdout; `template=TEXT` picks fields (see `imx help output`)' -r -f -a "table\t'Aligned columns for people (short ids, relative times)'
wide\t'The table with more columns (full ids, labels, ...)'
json\t'JSON: the model objects (times RFC 3339, durations in `*_ms`); lists are arrays, streams of records (run logs, audit tail) one object per line'
yaml\t'YAML: the same data as JSON'
csv\t'CSV: a header and the table\'s columns (full ids, RFC 3339 times)'
name\t'Bare ids or names, one per line'
template=\t'TEXT: a Jinja template per record, e.g. template=\'{{ id }} {{ status }}\''"
complete -c imx -n "__fish_imx_using_subcommand workflow; and __fish_seen_subcommand_from run" -s w -l wait -d 'Follow the run until it ends, with live progress; exit with its outcome'
complete -c imx -n "__fish_imx_using_subcommand workflow; and __fish_seen_subcommand_from run" -l insecure -d 'Allow a plain http:// server that is not on this machine: tokens and passwords cross the network in clear (a warning each time). Loopback needs no flag'
complete -c imx -n "__fish_imx_using_subcommand workflow; and __fish_seen_subcommand_from run" -s q -l quiet -d 'Print only data and errors: no status lines, hints or progress'
complete -c imx -n "__fish_imx_using_subcommand workflow; and __fish_seen_subcommand_from run" -s v -l verbose -d 'Say more (repeat for even more)'
complete -c imx -n "__fish_imx_using_subcommand workflow; and __fish_seen_subcommand_from run" -l no-color -d 'No colour (also when NO_COLOR is set or output is not a terminal)'
complete -c imx -n "__fish_imx_using_subcommand workflow; and __fish_seen_subcommand_from run" -s y -l yes -d 'Answer yes to confirmation prompts (needed for destructive commands in scripts)'
complete -c imx -n "__fish_imx_using_subcommand workflow; and __fish_seen_subcommand_from run" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c imx -n "__fish_imx_using_subcommand run; and not __fish_seen_subcommand_from list show logs cancel retry wait watch" -l store -d 'The local store (a SQLite file) [default: ~/.local/share/imx/imx.db]' -r -F
complete -c imx -n "__fish_imx_using_subcommand run; and not __fish_seen_subcommand_from list show logs cancel retry wait watch" -l server -d 'A remote control plane: an `imx server` URL (token from IMX_TOKEN or `imx login`)' -r
complete -c imx -n "__fish_imx_using_subcommand run; and not __fish_seen_subcommand_from list show logs cancel retry wait watch" -l context -d 'Use a named context (see `imx context list`) instead of the current one' -r
complete -c imx -n "__fish_imx_using_subcommand run; and not __fish_seen_subcommand_from list show logs cancel retry wait watch" -s o -l output -d 'Output format for data on stdout; `template=TEXT` picks fields (see `imx help output`)' -r -f -a "table\t'Aligned columns for people (short ids, relative times)'
wide\t'The table with more columns (full ids, labels, ...)'
json\t'JSON: the model objects (times RFC 3339, durations in `*_ms`); lists are arrays, streams of records (run logs, audit tail) one object per line'
yaml\t'YAML: the same data as JSON'
csv\t'CSV: a header and the table\'s columns (full ids, RFC 3339 times)'
name\t'Bare ids or names, one per line'
template=\t'TEXT: a Jinja template per record, e.g. template=\'{{ id }} {{ status }}\''"
complete -c imx -n "__fish_imx_using_subcommand run; and not __fish_seen_subcommand_from list show logs cancel retry wait watch" -l insecure -d 'Allow a plain http:// server that is not on this machine: tokens and passwords cross the network in clear (a warning each time). Loopback needs no flag'
complete -c imx -n "__fish_imx_using_subcommand run; and not __fish_seen_subcommand_from list show logs cancel retry wait watch" -s q -l quiet -d 'Print only data and errors: no status lines, hints or progress'
complete -c imx -n "__fish_imx_using_subcommand run; and not __fish_seen_subcommand_from list show logs cancel retry wait watch" -s v -l verbose -d 'Say more (repeat for even more)'
complete -c imx -n "__fish_imx_using_subcommand run; and not __fish_seen_subcommand_from list show logs cancel retry wait watch" -l no-color -d 'No colour (also when NO_COLOR is set or output is not a terminal)'
complete -c imx -n "__fish_imx_using_subcommand run; and not __fish_seen_subcommand_from list show logs cancel retry wait watch" -s y -l yes -d 'Answer yes to confirmation prompts (needed for destructive commands in scripts)'
complete -c imx -n "__fish_imx_using_subcommand run; and not __fish_seen_subcommand_from list show logs cancel retry wait watch" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c imx -n "__fish_imx_using_subcommand run; and not __fish_seen_subcommand_from list show logs cancel retry wait watch" -f -a "list" -d 'List runs, newest first'
complete -c imx -n "__fish_imx_using_subcommand run; and not __fish_seen_subcommand_from list show logs cancel retry wait watch" -f -a "show" -d 'Show a run and its steps'
complete -c imx -n "__fish_imx_using_subcommand run; and not __fish_seen_subcommand_from list show logs cancel retry wait watch" -f -a "logs" -d 'Print a run\'s captured output (-f to follow it)'
complete -c imx -n "__fish_imx_using_subcommand run; and not __fish_seen_subcommand_from list show logs cancel retry wait watch" -f -a "cancel" -d 'Cancel a run: ready steps stop, running steps are signalled'
complete -c imx -n "__fish_imx_using_subcommand run; and not __fish_seen_subcommand_from list show logs cancel retry wait watch" -f -a "retry" -d 'Retry a finished run\'s failed steps (or from one step on)'
complete -c imx -n "__fish_imx_using_subcommand run; and not __fish_seen_subcommand_from list show logs cancel retry wait watch" -f -a "wait" -d 'Wait for a run to end; exit with its outcome'
complete -c imx -n "__fish_imx_using_subcommand run; and not __fish_seen_subcommand_from list show logs cancel retry wait watch" -f -a "watch" -d 'Follow a run with live progress until it ends'
complete -c imx -n "__fish_imx_using_subcommand run; and __fish_seen_subcommand_from list" -s w -l workflow -d 'Only runs of this workflow' -r
complete -c imx -n "__fish_imx_using_subcommand run; and __fish_seen_subcommand_from list" -s s -l status -d 'Only runs in these states (comma-separated, or repeat the flag): queued, running, succeeded, failed, cancelled, timed_out' -r
complete -c imx -n "__fish_imx_using_subcommand run; and __fish_seen_subcommand_from list" -l since -d 'Only runs created since: a duration ago (1h, 30m) or an RFC 3339 time' -r
complete -c imx -n "__fish_imx_using_subcommand run; and __fish_seen_subcommand_from list" -s n -l limit -d 'At most this many runs (at least 1)' -r
complete -c imx -n "__fish_imx_using_subcommand run; and __fish_seen_subcommand_from list" -l store -d 'The local store (a SQLite file) [default: ~/.local/share/imx/imx.db]' -r -F
complete -c imx -n "__fish_imx_using_subcommand run; and __fish_seen_subcommand_from list" -l server -d 'A remote control plane: an `imx server` URL (token from IMX_TOKEN or `imx login`)' -r
complete -c imx -n "__fish_imx_using_subcommand run; and __fish_seen_subcommand_from list" -l context -d 'Use a named context (see `imx context list`) instead of the current one' -r
complete -c imx -n "__fish_imx_using_subcommand run; and __fish_seen_subcommand_from list" -s o -l output -d 'Output format for data on stdout; `template=TEXT` picks fields (see `imx help output`)' -r -f -a "table\t'Aligned columns for people (short ids, relative times)'
wide\t'The table with more columns (full ids, labels, ...)'
json\t'JSON: the model objects (times RFC 3339, durations in `*_ms`); lists are arrays, streams of records (run logs, audit tail) one object per line'
yaml\t'YAML: the same data as JSON'
csv\t'CSV: a header and the table\'s columns (full ids, RFC 3339 times)'
name\t'Bare ids or names, one per line'
template=\t'TEXT: a Jinja template per record, e.g. template=\'{{ id }} {{ status }}\''"
complete -c imx -n "__fish_imx_using_subcommand run; and __fish_seen_subcommand_from list" -l all -d 'Every matching run (no --limit)'
complete -c imx -n "__fish_imx_using_subcommand run; and __fish_seen_subcommand_from list" -l insecure -d 'Allow a plain http:// server that is not on this machine: tokens and passwords cross the network in clear (a warning each time). Loopback needs no flag'
complete -c imx -n "__fish_imx_using_subcommand run; and __fish_seen_subcommand_from list" -s q -l quiet -d 'Print only data and errors: no status lines, hints or progress'
complete -c imx -n "__fish_imx_using_subcommand run; and __fish_seen_subcommand_from list" -s v -l verbose -d 'Say more (repeat for even more)'
complete -c imx -n "__fish_imx_using_subcommand run; and __fish_seen_subcommand_from list" -l no-color -d 'No colour (also when NO_COLOR is set or output is not a terminal)'
complete -c imx -n "__fish_imx_using_subcommand run; and __fish_seen_subcommand_from list" -s y -l yes -d 'Answer yes to confirmation prompts (needed for destructive commands in scripts)'
complete -c imx -n "__fish_imx_using_subcommand run; and __fish_seen_subcommand_from list" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c imx -n "__fish_imx_using_subcommand run; and __fish_seen_subcommand_from show" -l store -d 'The local store (a SQLite file) [default: ~/.local/share/imx/imx.db]' -r -F
complete -c imx -n "__fish_imx_using_subcommand run; and __fish_seen_subcommand_from show" -l server -d 'A remote control plane: an `imx server` URL (token from IMX_TOKEN or `imx login`)' -r
complete -c imx -n "__fish_imx_using_subcommand run; and __fish_seen_subcommand_from show" -l context -d 'Use a named context (see `imx context list`) instead of the current one' -r
complete -c imx -n "__fish_imx_using_subcommand run; and __fish_seen_subcommand_from show" -s o -l output -d 'Output format for data on stdout; `template=TEXT` picks fields (see `imx help output`)' -r -f -a "table\t'Aligned columns for people (short ids, relative times)'
wide\t'The table with more columns (full ids, labels, ...)'
json\t'JSON: the model objects (times RFC 3339, durations in `*_ms`); lists are arrays, streams of records (run logs, audit tail) one object per line'
yaml\t'YAML: the same data as JSON'
csv\t'CSV: a header and the table\'s columns (full ids, RFC 3339 times)'
name\t'Bare ids or names, one per line'
template=\t'TEXT: a Jinja template per record, e.g. template=\'{{ id }} {{ status }}\''"
complete -c imx -n "__fish_imx_using_subcommand run; and __fish_seen_subcommand_from show" -l insecure -d 'Allow a plain http:// server that is not on this machine: tokens and passwords cross the network in clear (a warning each time). Loopback needs no flag'
complete -c imx -n "__fish_imx_using_subcommand run; and __fish_seen_subcommand_from show" -s q -l quiet -d 'Print only data and errors: no status lines, hints or progress'
complete -c imx -n "__fish_imx_using_subcommand run; and __fish_seen_subcommand_from show" -s v -l verbose -d 'Say more (repeat for even more)'
complete -c imx -n "__fish_imx_using_subcommand run; and __fish_seen_subcommand_from show" -l no-color -d 'No colour (also when NO_COLOR is set or output is not a terminal)'
complete -c imx -n "__fish_imx_using_subcommand run; and __fish_seen_subcommand_from show" -s y -l yes -d 'Answer yes to confirmation prompts (needed for destructive commands in scripts)'
complete -c imx -n "__fish_imx_using_subcommand run; and __fish_seen_subcommand_from show" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c imx -n "__fish_imx_using_subcommand run; and __fish_seen_subcommand_from logs" -s s -l step -d 'Only this step\'s output' -r
complete -c imx -n "__fish_imx_using_subcommand run; and __fish_seen_subcommand_from logs" -l since -d 'Only lines written since: a duration ago (10m, 1h) or an RFC 3339 time' -r
complete -c imx -n "__fish_imx_using_subcommand run; and __fish_seen_subcommand_from logs" -l tail -d 'Only the last N lines (with -f: then follow)' -r
complete -c imx -n "__fish_imx_using_subcommand run; and __fish_seen_subcommand_from logs" -l grep -d 'Only lines matching this regular expression' -r
complete -c imx -n "__fish_imx_using_subcommand run; and __fish_seen_subcommand_from logs" -l store -d 'The local store (a SQLite file) [default: ~/.local/share/imx/imx.db]' -r -F
complete -c imx -n "__fish_imx_using_subcommand run; and __fish_seen_subcommand_from logs" -l server -d 'A remote control plane: an `imx server` URL (token from IMX_TOKEN or `imx login`)' -r
complete -c imx -n "__fish_imx_using_subcommand run; and __fish_seen_subcommand_from logs" -l context -d 'Use a named context (see `imx context list`) instead of the current one' -r
complete -c imx -n "__fish_imx_using_subcommand run; and __fish_seen_subcommand_from logs" -s o -l output -d 'Output format for data on stdout; `template=TEXT` picks fields (see `imx help output`)' -r -f -a "table\t'Aligned columns for people (short ids, relative times)'
wide\t'The table with more columns (full ids, labels, ...)'
json\t'JSON: the model objects (times RFC 3339, durations in `*_ms`); lists are arrays, streams of records (run logs, audit tail) one object per line'
yaml\t'YAML: the same data as JSON'
csv\t'CSV: a header and the table\'s columns (full ids, RFC 3339 times)'
name\t'Bare ids or names, one per line'
template=\t'TEXT: a Jinja template per record, e.g. template=\'{{ id }} {{ status }}\''"
complete -c imx -n "__fish_imx_using_subcommand run; and __fish_seen_subcommand_from logs" -s f -l follow -d 'Follow: keep printing new lines until the run ends'
complete -c imx -n "__fish_imx_using_subcommand run; and __fish_seen_subcommand_from logs" -l timestamps -d 'Prefix each line with the time it was written (RFC 3339, UTC)'
complete -c imx -n "__fish_imx_using_subcommand run; and __fish_seen_subcommand_from logs" -l no-timestamps -d 'No time prefix (the default; overrides an earlier --timestamps)'
complete -c imx -n "__fish_imx_using_subcommand run; and __fish_seen_subcommand_from logs" -l failed -d 'Only the failed steps\' last lines (20 each, or --tail N) of their last attempt'
complete -c imx -n "__fish_imx_using_subcommand run; and __fish_seen_subcommand_from logs" -l insecure -d 'Allow a plain http:// server that is not on this machine: tokens and passwords cross the network in clear (a warning each time). Loopback needs no flag'
complete -c imx -n "__fish_imx_using_subcommand run; and __fish_seen_subcommand_from logs" -s q -l quiet -d 'Print only data and errors: no status lines, hints or progress'
complete -c imx -n "__fish_imx_using_subcommand run; and __fish_seen_subcommand_from logs" -s v -l verbose -d 'Say more (repeat for even more)'
complete -c imx -n "__fish_imx_using_subcommand run; and __fish_seen_subcommand_from logs" -l no-color -d 'No colour (also when NO_COLOR is set or output is not a terminal)'
complete -c imx -n "__fish_imx_using_subcommand run; and __fish_seen_subcommand_from logs" -s y -l yes -d 'Answer yes to confirmation prompts (needed for destructive commands in scripts)'
complete -c imx -n "__fish_imx_using_subcommand run; and __fish_seen_subcommand_from logs" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c imx -n "__fish_imx_using_subcommand run; and __fish_seen_subcommand_from cancel" -l store -d 'The local store (a SQLite file) [default: ~/.local/share/imx/imx.db]' -r -F
complete -c imx -n "__fish_imx_using_subcommand run; and __fish_seen_subcommand_from cancel" -l server -d 'A remote control plane: an `imx server` URL (token from IMX_TOKEN or `imx login`)' -r
complete -c imx -n "__fish_imx_using_subcommand run; and __fish_seen_subcommand_from cancel" -l context -d 'Use a named context (see `imx context list`) instead of the current one' -r
complete -c imx -n "__fish_imx_using_subcommand run; and __fish_seen_subcommand_from cancel" -s o -l output -d 'Output format for data on stdout; `template=TEXT` picks fields (see `imx help output`)' -r -f -a "table\t'Aligned columns for people (short ids, relative times)'
wide\t'The table with more columns (full ids, labels, ...)'
json\t'JSON: the model objects (times RFC 3339, durations in `*_ms`); lists are arrays, streams of records (run logs, audit tail) one object per line'
yaml\t'YAML: the same data as JSON'
csv\t'CSV: a header and the table\'s columns (full ids, RFC 3339 times)'
name\t'Bare ids or names, one per line'
template=\t'TEXT: a Jinja template per record, e.g. template=\'{{ id }} {{ status }}\''"
complete -c imx -n "__fish_imx_using_subcommand run; and __fish_seen_subcommand_from cancel" -l insecure -d 'Allow a plain http:// server that is not on this machine: tokens and passwords cross the network in clear (a warning each time). Loopback needs no flag'
complete -c imx -n "__fish_imx_using_subcommand run; and __fish_seen_subcommand_from cancel" -s q -l quiet -d 'Print only data and errors: no status lines, hints or progress'
complete -c imx -n "__fish_imx_using_subcommand run; and __fish_seen_subcommand_from cancel" -s v -l verbose -d 'Say more (repeat for even more)'
complete -c imx -n "__fish_imx_using_subcommand run; and __fish_seen_subcommand_from cancel" -l no-color -d 'No colour (also when NO_COLOR is set or output is not a terminal)'
complete -c imx -n "__fish_imx_using_subcommand run; and __fish_seen_subcommand_from cancel" -s y -l yes -d 'Answer yes to confirmation prompts (needed for destructive commands in scripts)'
complete -c imx -n "__fish_imx_using_subcommand run; and __fish_seen_subcommand_from cancel" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c imx -n "__fish_imx_using_subcommand run; and __fish_seen_subcommand_from retry" -l from -d 'Rerun this step and everything that depends on it' -r
complete -c imx -n "__fish_imx_using_subcommand run; and __fish_seen_subcommand_from retry" -l store -d 'The local store (a SQLite file) [default: ~/.local/share/imx/imx.db]' -r -F
complete -c imx -n "__fish_imx_using_subcommand run; and __fish_seen_subcommand_from retry" -l server -d 'A remote control plane: an `imx server` URL (token from IMX_TOKEN or `imx login`)' -r
complete -c imx -n "__fish_imx_using_subcommand run; and __fish_seen_subcommand_from retry" -l context -d 'Use a named context (see `imx context list`) instead of the current one' -r
complete -c imx -n "__fish_imx_using_subcommand run; and __fish_seen_subcommand_from retry" -s o -l output -d 'Output format for data on stdout; `template=TEXT` picks fields (see `imx help output`)' -r -f -a "table\t'Aligned columns for people (short ids, relative times)'
wide\t'The table with more columns (full ids, labels, ...)'
json\t'JSON: the model objects (times RFC 3339, durations in `*_ms`); lists are arrays, streams of records (run logs, audit tail) one object per line'
yaml\t'YAML: the same data as JSON'
csv\t'CSV: a header and the table\'s columns (full ids, RFC 3339 times)'
name\t'Bare ids or names, one per line'
template=\t'TEXT: a Jinja template per record, e.g. template=\'{{ id }} {{ status }}\''"
complete -c imx -n "__fish_imx_using_subcommand run; and __fish_seen_subcommand_from retry" -l insecure -d 'Allow a plain http:// server that is not on this machine: tokens and passwords cross the network in clear (a warning each time). Loopback needs no flag'
complete -c imx -n "__fish_imx_using_subcommand run; and __fish_seen_subcommand_from retry" -s q -l quiet -d 'Print only data and errors: no status lines, hints or progress'
complete -c imx -n "__fish_imx_using_subcommand run; and __fish_seen_subcommand_from retry" -s v -l verbose -d 'Say more (repeat for even more)'
complete -c imx -n "__fish_imx_using_subcommand run; and __fish_seen_subcommand_from retry" -l no-color -d 'No colour (also when NO_COLOR is set or output is not a terminal)'
complete -c imx -n "__fish_imx_using_subcommand run; and __fish_seen_subcommand_from retry" -s y -l yes -d 'Answer yes to confirmation prompts (needed for destructive commands in scripts)'
complete -c imx -n "__fish_imx_using_subcommand run; and __fish_seen_subcommand_from retry" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c imx -n "__fish_imx_using_subcommand run; and __fish_seen_subcommand_from wait" -l wait-timeout -d 'Give up waiting after this long (exit 13; the run goes on), e.g. 30s, 10m' -r
complete -c imx -n "__fish_imx_using_subcommand run; and __fish_seen_subcommand_from wait" -l store -d 'The local store (a SQLite file) [default: ~/.local/share/imx/imx.db]' -r -F
complete -c imx -n "__fish_imx_using_subcommand run; and __fish_seen_subcommand_from wait" -l server -d 'A remote control plane: an `imx server` URL (token from IMX_TOKEN or `imx login`)' -r
complete -c imx -n "__fish_imx_using_subcommand run; and __fish_seen_subcommand_from wait" -l context -d 'Use a named context (see `imx context list`) instead of the current one' -r
complete -c imx -n "__fish_imx_using_subcommand run; and __fish_seen_subcommand_from wait" -s o -l output -d 'Output format for data on stdout; `template=TEXT` picks fields (see `imx help output`)' -r -f -a "table\t'Aligned columns for people (short ids, relative times)'
wide\t'The table with more columns (full ids, labels, ...)'
json\t'JSON: the model objects (times RFC 3339, durations in `*_ms`); lists are arrays, streams of records (run logs, audit tail) one object per line'
yaml\t'YAML: the same data as JSON'
csv\t'CSV: a header and the table\'s columns (full ids, RFC 3339 times)'
name\t'Bare ids or names, one per line'
template=\t'TEXT: a Jinja template per record, e.g. template=\'{{ id }} {{ status }}\''"
complete -c imx -n "__fish_imx_using_subcommand run; and __fish_seen_subcommand_from wait" -l insecure -d 'Allow a plain http:// server that is not on this machine: tokens and passwords cross the network in clear (a warning each time). Loopback needs no flag'
complete -c imx -n "__fish_imx_using_subcommand run; and __fish_seen_subcommand_from wait" -s q -l quiet -d 'Print only data and errors: no status lines, hints or progress'
complete -c imx -n "__fish_imx_using_subcommand run; and __fish_seen_subcommand_from wait" -s v -l verbose -d 'Say more (repeat for even more)'
complete -c imx -n "__fish_imx_using_subcommand run; and __fish_seen_subcommand_from wait" -l no-color -d 'No colour (also when NO_COLOR is set or output is not a terminal)'
complete -c imx -n "__fish_imx_using_subcommand run; and __fish_seen_subcommand_from wait" -s y -l yes -d 'Answer yes to confirmation prompts (needed for destructive commands in scripts)'
complete -c imx -n "__fish_imx_using_subcommand run; and __fish_seen_subcommand_from wait" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c imx -n "__fish_imx_using_subcommand run; and __fish_seen_subcommand_from watch" -l wait-timeout -d 'Stop watching after this long (exit 13; the run goes on), e.g. 30s, 10m' -r
complete -c imx -n "__fish_imx_using_subcommand run; and __fish_seen_subcommand_from watch" -l store -d 'The local store (a SQLite file) [default: ~/.local/share/imx/imx.db]' -r -F
complete -c imx -n "__fish_imx_using_subcommand run; and __fish_seen_subcommand_from watch" -l server -d 'A remote control plane: an `imx server` URL (token from IMX_TOKEN or `imx login`)' -r
complete -c imx -n "__fish_imx_using_subcommand run; and __fish_seen_subcommand_from watch" -l context -d 'Use a named context (see `imx context list`) instead of the current one' -r
complete -c imx -n "__fish_imx_using_subcommand run; and __fish_seen_subcommand_from watch" -s o -l output -d 'Output format for data on stdout; `template=TEXT` picks fields (see `imx help output`)' -r -f -a "table\t'Aligned columns for people (short ids, relative times)'
wide\t'The table with more columns (full ids, labels, ...)'
json\t'JSON: the model objects (times RFC 3339, durations in `*_ms`); lists are arrays, streams of records (run logs, audit tail) one object per line'
yaml\t'YAML: the same data as JSON'
csv\t'CSV: a header and the table\'s columns (full ids, RFC 3339 times)'
name\t'Bare ids or names, one per line'
template=\t'TEXT: a Jinja template per record, e.g. template=\'{{ id }} {{ status }}\''"
complete -c imx -n "__fish_imx_using_subcommand run; and __fish_seen_subcommand_from watch" -l insecure -d 'Allow a plain http:// server that is not on this machine: tokens and passwords cross the network in clear (a warning each time). Loopback needs no flag'
complete -c imx -n "__fish_imx_using_subcommand run; and __fish_seen_subcommand_from watch" -s q -l quiet -d 'Print only data and errors: no status lines, hints or progress'
complete -c imx -n "__fish_imx_using_subcommand run; and __fish_seen_subcommand_from watch" -s v -l verbose -d 'Say more (repeat for even more)'
complete -c imx -n "__fish_imx_using_subcommand run; and __fish_seen_subcommand_from watch" -l no-color -d 'No colour (also when NO_COLOR is set or output is not a terminal)'
complete -c imx -n "__fish_imx_using_subcommand run; and __fish_seen_subcommand_from watch" -s y -l yes -d 'Answer yes to confirmation prompts (needed for destructive commands in scripts)'
complete -c imx -n "__fish_imx_using_subcommand run; and __fish_seen_subcommand_from watch" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c imx -n "__fish_imx_using_subcommand agent; and not __fish_seen_subcommand_from run list show drain resume remove" -l store -d 'The local store (a SQLite file) [default: ~/.local/share/imx/imx.db]' -r -F
complete -c imx -n "__fish_imx_using_subcommand agent; and not __fish_seen_subcommand_from run list show drain resume remove" -l server -d 'A remote control plane: an `imx server` URL (token from IMX_TOKEN or `imx login`)' -r
complete -c imx -n "__fish_imx_using_subcommand agent; and not __fish_seen_subcommand_from run list show drain resume remove" -l context -d 'Use a named context (see `imx context list`) instead of the current one' -r
complete -c imx -n "__fish_imx_using_subcommand agent; and not __fish_seen_subcommand_from run list show drain resume remove" -s o -l output -d 'Output format for data on stdout; `template=TEXT` picks fields (see `imx help output`)' -r -f -a "table\t'Aligned columns for people (short ids, relative times)'
wide\t'The table with more columns (full ids, labels, ...)'
json\t'JSON: the model objects (times RFC 3339, durations in `*_ms`); lists are arrays, streams of records (run logs, audit tail) one object per line'
yaml\t'YAML: the same data as JSON'
csv\t'CSV: a header and the table\'s columns (full ids, RFC 3339 times)'
name\t'Bare ids or names, one per line'
template=\t'TEXT: a Jinja template per record, e.g. template=\'{{ id }} {{ status }}\''"
complete -c imx -n "__fish_imx_using_subcommand agent; and not __fish_seen_subcommand_from run list show drain resume remove" -l insecure -d 'Allow a plain http:// server that is not on this machine: tokens and passwords cross the network in clear (a warning each time). Loopback needs no flag'
complete -c imx -n "__fish_imx_using_subcommand agent; and not __fish_seen_subcommand_from run list show drain resume remove" -s q -l quiet -d 'Print only data and errors: no status lines, hints or progress'
complete -c imx -n "__fish_imx_using_subcommand agent; and not __fish_seen_subcommand_from run list show drain resume remove" -s v -l verbose -d 'Say more (repeat for even more)'
complete -c imx -n "__fish_imx_using_subcommand agent; and not __fish_seen_subcommand_from run list show drain resume remove" -l no-color -d 'No colour (also when NO_COLOR is set or output is not a terminal)'
complete -c imx -n "__fish_imx_using_subcommand agent; and not __fish_seen_subcommand_from run list show drain resume remove" -s y -l yes -d 'Answer yes to confirmation prompts (needed for destructive commands in scripts)'
complete -c imx -n "__fish_imx_using_subcommand agent; and not __fish_seen_subcommand_from run list show drain resume remove" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c imx -n "__fish_imx_using_subcommand agent; and not __fish_seen_subcommand_from run list show drain resume remove" -f -a "run" -d 'Run an agent (a worker) in this process until SIGINT/SIGTERM, then drain and exit'
complete -c imx -n "__fish_imx_using_subcommand agent; and not __fish_seen_subcommand_from run list show drain resume remove" -f -a "list" -d 'List agents'
complete -c imx -n "__fish_imx_using_subcommand agent; and not __fish_seen_subcommand_from run list show drain resume remove" -f -a "show" -d 'Show one agent'
complete -c imx -n "__fish_imx_using_subcommand agent; and not __fish_seen_subcommand_from run list show drain resume remove" -f -a "drain" -d 'Stop an agent from taking new steps; running steps finish'
complete -c imx -n "__fish_imx_using_subcommand agent; and not __fish_seen_subcommand_from run list show drain resume remove" -f -a "resume" -d 'Let a drained agent take steps again'
complete -c imx -n "__fish_imx_using_subcommand agent; and not __fish_seen_subcommand_from run list show drain resume remove" -f -a "remove" -d 'Remove an agent (one that runs steps: drain it first, or --force)'
complete -c imx -n "__fish_imx_using_subcommand agent; and __fish_seen_subcommand_from run" -l name -d 'The agent\'s name [default: <hostname>-<pid>]' -r
complete -c imx -n "__fish_imx_using_subcommand agent; and __fish_seen_subcommand_from run" -s l -l labels -d 'Labels that steps can select on, e.g. os=linux,gpu=true' -r
complete -c imx -n "__fish_imx_using_subcommand agent; and __fish_seen_subcommand_from run" -l slots -d 'How many steps it runs at once' -r
complete -c imx -n "__fish_imx_using_subcommand agent; and __fish_seen_subcommand_from run" -l token -d 'The token for --server (visible to other users in the process list: prefer --token-file or IMX_TOKEN)' -r
complete -c imx -n "__fish_imx_using_subcommand agent; and __fish_seen_subcommand_from run" -l token-file -d 'Read the token for --server from this file (e.g. one only the agent\'s user can read)' -r -F
complete -c imx -n "__fish_imx_using_subcommand agent; and __fish_seen_subcommand_from run" -l instance -d 'A nonce the supervisor gives each start of this agent (e.g. systemd\'s $INVOCATION_ID): a start with a new one takes the name over from the previous process at once, wherever it ran. Without it, a restart on the same host takes the name over once the previous process is gone' -r
complete -c imx -n "__fish_imx_using_subcommand agent; and __fish_seen_subcommand_from run" -l pass-env -d 'Pass this variable of the agent\'s environment to every step (repeatable, or NAME,NAME); IMX_* names are refused' -r
complete -c imx -n "__fish_imx_using_subcommand agent; and __fish_seen_subcommand_from run" -l store -d 'The local store (a SQLite file) [default: ~/.local/share/imx/imx.db]' -r -F
complete -c imx -n "__fish_imx_using_subcommand agent; and __fish_seen_subcommand_from run" -l server -d 'A remote control plane: an `imx server` URL (token from IMX_TOKEN or `imx login`)' -r
complete -c imx -n "__fish_imx_using_subcommand agent; and __fish_seen_subcommand_from run" -l context -d 'Use a named context (see `imx context list`) instead of the current one' -r
complete -c imx -n "__fish_imx_using_subcommand agent; and __fish_seen_subcommand_from run" -s o -l output -d 'Output format for data on stdout; `template=TEXT` picks fields (see `imx help output`)' -r -f -a "table\t'Aligned columns for people (short ids, relative times)'
wide\t'The table with more columns (full ids, labels, ...)'
json\t'JSON: the model objects (times RFC 3339, durations in `*_ms`); lists are arrays, streams of records (run logs, audit tail) one object per line'
yaml\t'YAML: the same data as JSON'
csv\t'CSV: a header and the table\'s columns (full ids, RFC 3339 times)'
name\t'Bare ids or names, one per line'
template=\t'TEXT: a Jinja template per record, e.g. template=\'{{ id }} {{ status }}\''"
complete -c imx -n "__fish_imx_using_subcommand agent; and __fish_seen_subcommand_from run" -l insecure -d 'Allow a plain http:// server that is not on this machine: tokens and passwords cross the network in clear (a warning each time). Loopback needs no flag'
complete -c imx -n "__fish_imx_using_subcommand agent; and __fish_seen_subcommand_from run" -s q -l quiet -d 'Print only data and errors: no status lines, hints or progress'
complete -c imx -n "__fish_imx_using_subcommand agent; and __fish_seen_subcommand_from run" -s v -l verbose -d 'Say more (repeat for even more)'
complete -c imx -n "__fish_imx_using_subcommand agent; and __fish_seen_subcommand_from run" -l no-color -d 'No colour (also when NO_COLOR is set or output is not a terminal)'
complete -c imx -n "__fish_imx_using_subcommand agent; and __fish_seen_subcommand_from run" -s y -l yes -d 'Answer yes to confirmation prompts (needed for destructive commands in scripts)'
complete -c imx -n "__fish_imx_using_subcommand agent; and __fish_seen_subcommand_from run" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c imx -n "__fish_imx_using_subcommand agent; and __fish_seen_subcommand_from list" -s l -l label -d 'Only agents with this label (KEY=VALUE; repeat for several, all must match)' -r
complete -c imx -n "__fish_imx_using_subcommand agent; and __fish_seen_subcommand_from list" -s s -l status -d 'Only agents in these states (comma-separated, or repeat): online, busy, draining, offline' -r
complete -c imx -n "__fish_imx_using_subcommand agent; and __fish_seen_subcommand_from list" -l store -d 'The local store (a SQLite file) [default: ~/.local/share/imx/imx.db]' -r -F
complete -c imx -n "__fish_imx_using_subcommand agent; and __fish_seen_subcommand_from list" -l server -d 'A remote control plane: an `imx server` URL (token from IMX_TOKEN or `imx login`)' -r
complete -c imx -n "__fish_imx_using_subcommand agent; and __fish_seen_subcommand_from list" -l context -d 'Use a named context (see `imx context list`) instead of the current one' -r
complete -c imx -n "__fish_imx_using_subcommand agent; and __fish_seen_subcommand_from list" -s o -l output -d 'Output format for data on stdout; `template=TEXT` picks fields (see `imx help output`)' -r -f -a "table\t'Aligned columns for people (short ids, relative times)'
wide\t'The table with more columns (full ids, labels, ...)'
json\t'JSON: the model objects (times RFC 3339, durations in `*_ms`); lists are arrays, streams of records (run logs, audit tail) one object per line'
yaml\t'YAML: the same data as JSON'
csv\t'CSV: a header and the table\'s columns (full ids, RFC 3339 times)'
name\t'Bare ids or names, one per line'
template=\t'TEXT: a Jinja template per record, e.g. template=\'{{ id }} {{ status }}\''"
complete -c imx -n "__fish_imx_using_subcommand agent; and __fish_seen_subcommand_from list" -l insecure -d 'Allow a plain http:// server that is not on this machine: tokens and passwords cross the network in clear (a warning each time). Loopback needs no flag'
complete -c imx -n "__fish_imx_using_subcommand agent; and __fish_seen_subcommand_from list" -s q -l quiet -d 'Print only data and errors: no status lines, hints or progress'
complete -c imx -n "__fish_imx_using_subcommand agent; and __fish_seen_subcommand_from list" -s v -l verbose -d 'Say more (repeat for even more)'
complete -c imx -n "__fish_imx_using_subcommand agent; and __fish_seen_subcommand_from list" -l no-color -d 'No colour (also when NO_COLOR is set or output is not a terminal)'
complete -c imx -n "__fish_imx_using_subcommand agent; and __fish_seen_subcommand_from list" -s y -l yes -d 'Answer yes to confirmation prompts (needed for destructive commands in scripts)'
complete -c imx -n "__fish_imx_using_subcommand agent; and __fish_seen_subcommand_from list" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c imx -n "__fish_imx_using_subcommand agent; and __fish_seen_subcommand_from show" -l store -d 'The local store (a SQLite file) [default: ~/.local/share/imx/imx.db]' -r -F
complete -c imx -n "__fish_imx_using_subcommand agent; and __fish_seen_subcommand_from show" -l server -d 'A remote control plane: an `imx server` URL (token from IMX_TOKEN or `imx login`)' -r
complete -c imx -n "__fish_imx_using_subcommand agent; and __fish_seen_subcommand_from show" -l context -d 'Use a named context (see `imx context list`) instead of the current one' -r
complete -c imx -n "__fish_imx_using_subcommand agent; and __fish_seen_subcommand_from show" -s o -l output -d 'Output format for data on stdout; `template=TEXT` picks fields (see `imx help output`)' -r -f -a "table\t'Aligned columns for people (short ids, relative times)'
wide\t'The table with more columns (full ids, labels, ...)'
json\t'JSON: the model objects (times RFC 3339, durations in `*_ms`); lists are arrays, streams of records (run logs, audit tail) one object per line'
yaml\t'YAML: the same data as JSON'
csv\t'CSV: a header and the table\'s columns (full ids, RFC 3339 times)'
name\t'Bare ids or names, one per line'
template=\t'TEXT: a Jinja template per record, e.g. template=\'{{ id }} {{ status }}\''"
complete -c imx -n "__fish_imx_using_subcommand agent; and __fish_seen_subcommand_from show" -l insecure -d 'Allow a plain http:// server that is not on this machine: tokens and passwords cross the network in clear (a warning each time). Loopback needs no flag'
complete -c imx -n "__fish_imx_using_subcommand agent; and __fish_seen_subcommand_from show" -s q -l quiet -d 'Print only data and errors: no status lines, hints or progress'
complete -c imx -n "__fish_imx_using_subcommand agent; and __fish_seen_subcommand_from show" -s v -l verbose -d 'Say more (repeat for even more)'
complete -c imx -n "__fish_imx_using_subcommand agent; and __fish_seen_subcommand_from show" -l no-color -d 'No colour (also when NO_COLOR is set or output is not a terminal)'
complete -c imx -n "__fish_imx_using_subcommand agent; and __fish_seen_subcommand_from show" -s y -l yes -d 'Answer yes to confirmation prompts (needed for destructive commands in scripts)'
complete -c imx -n "__fish_imx_using_subcommand agent; and __fish_seen_subcommand_from show" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c imx -n "__fish_imx_using_subcommand agent; and __fish_seen_subcommand_from drain" -l store -d 'The local store (a SQLite file) [default: ~/.local/share/imx/imx.db]' -r -F
complete -c imx -n "__fish_imx_using_subcommand agent; and __fish_seen_subcommand_from drain" -l server -d 'A remote control plane: an `imx server` URL (token from IMX_TOKEN or `imx login`)' -r
complete -c imx -n "__fish_imx_using_subcommand agent; and __fish_seen_subcommand_from drain" -l context -d 'Use a named context (see `imx context list`) instead of the current one' -r
complete -c imx -n "__fish_imx_using_subcommand agent; and __fish_seen_subcommand_from drain" -s o -l output -d 'Output format for data on stdout; `template=TEXT` picks fields (see `imx help output`)' -r -f -a "table\t'Aligned columns for people (short ids, relative times)'
wide\t'The table with more columns (full ids, labels, ...)'
json\t'JSON: the model objects (times RFC 3339, durations in `*_ms`); lists are arrays, streams of records (run logs, audit tail) one object per line'
yaml\t'YAML: the same data as JSON'
csv\t'CSV: a header and the table\'s columns (full ids, RFC 3339 times)'
name\t'Bare ids or names, one per line'
template=\t'TEXT: a Jinja template per record, e.g. template=\'{{ id }} {{ status }}\''"
complete -c imx -n "__fish_imx_using_subcommand agent; and __fish_seen_subcommand_from drain" -l insecure -d 'Allow a plain http:// server that is not on this machine: tokens and passwords cross the network in clear (a warning each time). Loopback needs no flag'
complete -c imx -n "__fish_imx_using_subcommand agent; and __fish_seen_subcommand_from drain" -s q -l quiet -d 'Print only data and errors: no status lines, hints or progress'
complete -c imx -n "__fish_imx_using_subcommand agent; and __fish_seen_subcommand_from drain" -s v -l verbose -d 'Say more (repeat for even more)'
complete -c imx -n "__fish_imx_using_subcommand agent; and __fish_seen_subcommand_from drain" -l no-color -d 'No colour (also when NO_COLOR is set or output is not a terminal)'
complete -c imx -n "__fish_imx_using_subcommand agent; and __fish_seen_subcommand_from drain" -s y -l yes -d 'Answer yes to confirmation prompts (needed for destructive commands in scripts)'
complete -c imx -n "__fish_imx_using_subcommand agent; and __fish_seen_subcommand_from drain" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c imx -n "__fish_imx_using_subcommand agent; and __fish_seen_subcommand_from resume" -l store -d 'The local store (a SQLite file) [default: ~/.local/share/imx/imx.db]' -r -F
complete -c imx -n "__fish_imx_using_subcommand agent; and __fish_seen_subcommand_from resume" -l server -d 'A remote control plane: an `imx server` URL (token from IMX_TOKEN or `imx login`)' -r
complete -c imx -n "__fish_imx_using_subcommand agent; and __fish_seen_subcommand_from resume" -l context -d 'Use a named context (see `imx context list`) instead of the current one' -r
complete -c imx -n "__fish_imx_using_subcommand agent; and __fish_seen_subcommand_from resume" -s o -l output -d 'Output format for data on stdout; `template=TEXT` picks fields (see `imx help output`)' -r -f -a "table\t'Aligned columns for people (short ids, relative times)'
wide\t'The table with more columns (full ids, labels, ...)'
json\t'JSON: the model objects (times RFC 3339, durations in `*_ms`); lists are arrays, streams of records (run logs, audit tail) one object per line'
yaml\t'YAML: the same data as JSON'
csv\t'CSV: a header and the table\'s columns (full ids, RFC 3339 times)'
name\t'Bare ids or names, one per line'
template=\t'TEXT: a Jinja template per record, e.g. template=\'{{ id }} {{ status }}\''"
complete -c imx -n "__fish_imx_using_subcommand agent; and __fish_seen_subcommand_from resume" -l insecure -d 'Allow a plain http:// server that is not on this machine: tokens and passwords cross the network in clear (a warning each time). Loopback needs no flag'
complete -c imx -n "__fish_imx_using_subcommand agent; and __fish_seen_subcommand_from resume" -s q -l quiet -d 'Print only data and errors: no status lines, hints or progress'
complete -c imx -n "__fish_imx_using_subcommand agent; and __fish_seen_subcommand_from resume" -s v -l verbose -d 'Say more (repeat for even more)'
complete -c imx -n "__fish_imx_using_subcommand agent; and __fish_seen_subcommand_from resume" -l no-color -d 'No colour (also when NO_COLOR is set or output is not a terminal)'
complete -c imx -n "__fish_imx_using_subcommand agent; and __fish_seen_subcommand_from resume" -s y -l yes -d 'Answer yes to confirmation prompts (needed for destructive commands in scripts)'
complete -c imx -n "__fish_imx_using_subcommand agent; and __fish_seen_subcommand_from resume" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c imx -n "__fish_imx_using_subcommand agent; and __fish_seen_subcommand_from remove" -l store -d 'The local store (a SQLite file) [default: ~/.local/share/imx/imx.db]' -r -F
complete -c imx -n "__fish_imx_using_subcommand agent; and __fish_seen_subcommand_from remove" -l server -d 'A remote control plane: an `imx server` URL (token from IMX_TOKEN or `imx login`)' -r
complete -c imx -n "__fish_imx_using_subcommand agent; and __fish_seen_subcommand_from remove" -l context -d 'Use a named context (see `imx context list`) instead of the current one' -r
complete -c imx -n "__fish_imx_using_subcommand agent; and __fish_seen_subcommand_from remove" -s o -l output -d 'Output format for data on stdout; `template=TEXT` picks fields (see `imx help output`)' -r -f -a "table\t'Aligned columns for people (short ids, relative times)'
wide\t'The table with more columns (full ids, labels, ...)'
json\t'JSON: the model objects (times RFC 3339, durations in `*_ms`); lists are arrays, streams of records (run logs, audit tail) one object per line'
yaml\t'YAML: the same data as JSON'
csv\t'CSV: a header and the table\'s columns (full ids, RFC 3339 times)'
name\t'Bare ids or names, one per line'
template=\t'TEXT: a Jinja template per record, e.g. template=\'{{ id }} {{ status }}\''"
complete -c imx -n "__fish_imx_using_subcommand agent; and __fish_seen_subcommand_from remove" -l force -d 'Remove it even while it is online and runs steps; they go back to the queue'
complete -c imx -n "__fish_imx_using_subcommand agent; and __fish_seen_subcommand_from remove" -l insecure -d 'Allow a plain http:// server that is not on this machine: tokens and passwords cross the network in clear (a warning each time). Loopback needs no flag'
complete -c imx -n "__fish_imx_using_subcommand agent; and __fish_seen_subcommand_from remove" -s q -l quiet -d 'Print only data and errors: no status lines, hints or progress'
complete -c imx -n "__fish_imx_using_subcommand agent; and __fish_seen_subcommand_from remove" -s v -l verbose -d 'Say more (repeat for even more)'
complete -c imx -n "__fish_imx_using_subcommand agent; and __fish_seen_subcommand_from remove" -l no-color -d 'No colour (also when NO_COLOR is set or output is not a terminal)'
complete -c imx -n "__fish_imx_using_subcommand agent; and __fish_seen_subcommand_from remove" -s y -l yes -d 'Answer yes to confirmation prompts (needed for destructive commands in scripts)'
complete -c imx -n "__fish_imx_using_subcommand agent; and __fish_seen_subcommand_from remove" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c imx -n "__fish_imx_using_subcommand user; and not __fish_seen_subcommand_from create list show update disable enable delete passwd unlock" -l store -d 'The local store (a SQLite file) [default: ~/.local/share/imx/imx.db]' -r -F
complete -c imx -n "__fish_imx_using_subcommand user; and not __fish_seen_subcommand_from create list show update disable enable delete passwd unlock" -l server -d 'A remote control plane: an `imx server` URL (token from IMX_TOKEN or `imx login`)' -r
complete -c imx -n "__fish_imx_using_subcommand user; and not __fish_seen_subcommand_from create list show update disable enable delete passwd unlock" -l context -d 'Use a named context (see `imx context list`) instead of the current one' -r
complete -c imx -n "__fish_imx_using_subcommand user; and not __fish_seen_subcommand_from create list show update disable enable delete passwd unlock" -s o -l output -d 'Output format for data on stdout; `template=TEXT` picks fields (see `imx help output`)' -r -f -a "table\t'Aligned columns for people (short ids, relative times)'
wide\t'The table with more columns (full ids, labels, ...)'
json\t'JSON: the model objects (times RFC 3339, durations in `*_ms`); lists are arrays, streams of records (run logs, audit tail) one object per line'
yaml\t'YAML: the same data as JSON'
csv\t'CSV: a header and the table\'s columns (full ids, RFC 3339 times)'
name\t'Bare ids or names, one per line'
template=\t'TEXT: a Jinja template per record, e.g. template=\'{{ id }} {{ status }}\''"
complete -c imx -n "__fish_imx_using_subcommand user; and not __fish_seen_subcommand_from create list show update disable enable delete passwd unlock" -l insecure -d 'Allow a plain http:// server that is not on this machine: tokens and passwords cross the network in clear (a warning each time). Loopback needs no flag'
complete -c imx -n "__fish_imx_using_subcommand user; and not __fish_seen_subcommand_from create list show update disable enable delete passwd unlock" -s q -l quiet -d 'Print only data and errors: no status lines, hints or progress'
complete -c imx -n "__fish_imx_using_subcommand user; and not __fish_seen_subcommand_from create list show update disable enable delete passwd unlock" -s v -l verbose -d 'Say more (repeat for even more)'
complete -c imx -n "__fish_imx_using_subcommand user; and not __fish_seen_subcommand_from create list show update disable enable delete passwd unlock" -l no-color -d 'No colour (also when NO_COLOR is set or output is not a terminal)'
complete -c imx -n "__fish_imx_using_subcommand user; and not __fish_seen_subcommand_from create list show update disable enable delete passwd unlock" -s y -l yes -d 'Answer yes to confirmation prompts (needed for destructive commands in scripts)'
complete -c imx -n "__fish_imx_using_subcommand user; and not __fish_seen_subcommand_from create list show update disable enable delete passwd unlock" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c imx -n "__fish_imx_using_subcommand user; and not __fish_seen_subcommand_from create list show update disable enable delete passwd unlock" -f -a "create" -d 'Create a user (optionally with a password for `imx login`)'
complete -c imx -n "__fish_imx_using_subcommand user; and not __fish_seen_subcommand_from create list show update disable enable delete passwd unlock" -f -a "list" -d 'List users'
complete -c imx -n "__fish_imx_using_subcommand user; and not __fish_seen_subcommand_from create list show update disable enable delete passwd unlock" -f -a "show" -d 'Show one user'
complete -c imx -n "__fish_imx_using_subcommand user; and not __fish_seen_subcommand_from create list show update disable enable delete passwd unlock" -f -a "update" -d 'Change a user\'s role'
complete -c imx -n "__fish_imx_using_subcommand user; and not __fish_seen_subcommand_from create list show update disable enable delete passwd unlock" -f -a "disable" -d 'Disable a user: their logins and tokens stop working'
complete -c imx -n "__fish_imx_using_subcommand user; and not __fish_seen_subcommand_from create list show update disable enable delete passwd unlock" -f -a "enable" -d 'Enable a disabled user again'
complete -c imx -n "__fish_imx_using_subcommand user; and not __fish_seen_subcommand_from create list show update disable enable delete passwd unlock" -f -a "delete" -d 'Delete a user and revoke their tokens'
complete -c imx -n "__fish_imx_using_subcommand user; and not __fish_seen_subcommand_from create list show update disable enable delete passwd unlock" -f -a "passwd" -d 'Set a user\'s password (prompted without echo, or --password-stdin); your own needs your current password'
complete -c imx -n "__fish_imx_using_subcommand user; and not __fish_seen_subcommand_from create list show update disable enable delete passwd unlock" -f -a "unlock" -d 'Clear a user\'s login lockouts, from every source (admins)'
complete -c imx -n "__fish_imx_using_subcommand user; and __fish_seen_subcommand_from create" -l role -d 'admin (everything), operator (workflows, runs, agents), viewer (read only) or agent (register, claim, report)' -r
complete -c imx -n "__fish_imx_using_subcommand user; and __fish_seen_subcommand_from create" -l store -d 'The local store (a SQLite file) [default: ~/.local/share/imx/imx.db]' -r -F
complete -c imx -n "__fish_imx_using_subcommand user; and __fish_seen_subcommand_from create" -l server -d 'A remote control plane: an `imx server` URL (token from IMX_TOKEN or `imx login`)' -r
complete -c imx -n "__fish_imx_using_subcommand user; and __fish_seen_subcommand_from create" -l context -d 'Use a named context (see `imx context list`) instead of the current one' -r
complete -c imx -n "__fish_imx_using_subcommand user; and __fish_seen_subcommand_from create" -s o -l output -d 'Output format for data on stdout; `template=TEXT` picks fields (see `imx help output`)' -r -f -a "table\t'Aligned columns for people (short ids, relative times)'
wide\t'The table with more columns (full ids, labels, ...)'
json\t'JSON: the model objects (times RFC 3339, durations in `*_ms`); lists are arrays, streams of records (run logs, audit tail) one object per line'
yaml\t'YAML: the same data as JSON'
csv\t'CSV: a header and the table\'s columns (full ids, RFC 3339 times)'
name\t'Bare ids or names, one per line'
template=\t'TEXT: a Jinja template per record, e.g. template=\'{{ id }} {{ status }}\''"
complete -c imx -n "__fish_imx_using_subcommand user; and __fish_seen_subcommand_from create" -l password-stdin -d 'Read a password from stdin (first line) and set it'
complete -c imx -n "__fish_imx_using_subcommand user; and __fish_seen_subcommand_from create" -l password -d 'Ask for a password on the terminal (without echo) and set it'
complete -c imx -n "__fish_imx_using_subcommand user; and __fish_seen_subcommand_from create" -l insecure -d 'Allow a plain http:// server that is not on this machine: tokens and passwords cross the network in clear (a warning each time). Loopback needs no flag'
complete -c imx -n "__fish_imx_using_subcommand user; and __fish_seen_subcommand_from create" -s q -l quiet -d 'Print only data and errors: no status lines, hints or progress'
complete -c imx -n "__fish_imx_using_subcommand user; and __fish_seen_subcommand_from create" -s v -l verbose -d 'Say more (repeat for even more)'
complete -c imx -n "__fish_imx_using_subcommand user; and __fish_seen_subcommand_from create" -l no-color -d 'No colour (also when NO_COLOR is set or output is not a terminal)'
complete -c imx -n "__fish_imx_using_subcommand user; and __fish_seen_subcommand_from create" -s y -l yes -d 'Answer yes to confirmation prompts (needed for destructive commands in scripts)'
complete -c imx -n "__fish_imx_using_subcommand user; and __fish_seen_subcommand_from create" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c imx -n "__fish_imx_using_subcommand user; and __fish_seen_subcommand_from list" -l store -d 'The local store (a SQLite file) [default: ~/.local/share/imx/imx.db]' -r -F
complete -c imx -n "__fish_imx_using_subcommand user; and __fish_seen_subcommand_from list" -l server -d 'A remote control plane: an `imx server` URL (token from IMX_TOKEN or `imx login`)' -r
complete -c imx -n "__fish_imx_using_subcommand user; and __fish_seen_subcommand_from list" -l context -d 'Use a named context (see `imx context list`) instead of the current one' -r
complete -c imx -n "__fish_imx_using_subcommand user; and __fish_seen_subcommand_from list" -s o -l output -d 'Output format for data on stdout; `template=TEXT` picks fields (see `imx help output`)' -r -f -a "table\t'Aligned columns for people (short ids, relative times)'
wide\t'The table with more columns (full ids, labels, ...)'
json\t'JSON: the model objects (times RFC 3339, durations in `*_ms`); lists are arrays, streams of records (run logs, audit tail) one object per line'
yaml\t'YAML: the same data as JSON'
csv\t'CSV: a header and the table\'s columns (full ids, RFC 3339 times)'
name\t'Bare ids or names, one per line'
template=\t'TEXT: a Jinja template per record, e.g. template=\'{{ id }} {{ status }}\''"
complete -c imx -n "__fish_imx_using_subcommand user; and __fish_seen_subcommand_from list" -l insecure -d 'Allow a plain http:// server that is not on this machine: tokens and passwords cross the network in clear (a warning each time). Loopback needs no flag'
complete -c imx -n "__fish_imx_using_subcommand user; and __fish_seen_subcommand_from list" -s q -l quiet -d 'Print only data and errors: no status lines, hints or progress'
complete -c imx -n "__fish_imx_using_subcommand user; and __fish_seen_subcommand_from list" -s v -l verbose -d 'Say more (repeat for even more)'
complete -c imx -n "__fish_imx_using_subcommand user; and __fish_seen_subcommand_from list" -l no-color -d 'No colour (also when NO_COLOR is set or output is not a terminal)'
complete -c imx -n "__fish_imx_using_subcommand user; and __fish_seen_subcommand_from list" -s y -l yes -d 'Answer yes to confirmation prompts (needed for destructive commands in scripts)'
complete -c imx -n "__fish_imx_using_subcommand user; and __fish_seen_subcommand_from list" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c imx -n "__fish_imx_using_subcommand user; and __fish_seen_subcommand_from show" -l store -d 'The local store (a SQLite file) [default: ~/.local/share/imx/imx.db]' -r -F
complete -c imx -n "__fish_imx_using_subcommand user; and __fish_seen_subcommand_from show" -l server -d 'A remote control plane: an `imx server` URL (token from IMX_TOKEN or `imx login`)' -r
complete -c imx -n "__fish_imx_using_subcommand user; and __fish_seen_subcommand_from show" -l context -d 'Use a named context (see `imx context list`) instead of the current one' -r
complete -c imx -n "__fish_imx_using_subcommand user; and __fish_seen_subcommand_from show" -s o -l output -d 'Output format for data on stdout; `template=TEXT` picks fields (see `imx help output`)' -r -f -a "table\t'Aligned columns for people (short ids, relative times)'
wide\t'The table with more columns (full ids, labels, ...)'
json\t'JSON: the model objects (times RFC 3339, durations in `*_ms`); lists are arrays, streams of records (run logs, audit tail) one object per line'
yaml\t'YAML: the same data as JSON'
csv\t'CSV: a header and the table\'s columns (full ids, RFC 3339 times)'
name\t'Bare ids or names, one per line'
template=\t'TEXT: a Jinja template per record, e.g. template=\'{{ id }} {{ status }}\''"
complete -c imx -n "__fish_imx_using_subcommand user; and __fish_seen_subcommand_from show" -l insecure -d 'Allow a plain http:// server that is not on this machine: tokens and passwords cross the network in clear (a warning each time). Loopback needs no flag'
complete -c imx -n "__fish_imx_using_subcommand user; and __fish_seen_subcommand_from show" -s q -l quiet -d 'Print only data and errors: no status lines, hints or progress'
complete -c imx -n "__fish_imx_using_subcommand user; and __fish_seen_subcommand_from show" -s v -l verbose -d 'Say more (repeat for even more)'
complete -c imx -n "__fish_imx_using_subcommand user; and __fish_seen_subcommand_from show" -l no-color -d 'No colour (also when NO_COLOR is set or output is not a terminal)'
complete -c imx -n "__fish_imx_using_subcommand user; and __fish_seen_subcommand_from show" -s y -l yes -d 'Answer yes to confirmation prompts (needed for destructive commands in scripts)'
complete -c imx -n "__fish_imx_using_subcommand user; and __fish_seen_subcommand_from show" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c imx -n "__fish_imx_using_subcommand user; and __fish_seen_subcommand_from update" -l role -d 'The new role: admin, operator, viewer or agent' -r
complete -c imx -n "__fish_imx_using_subcommand user; and __fish_seen_subcommand_from update" -l store -d 'The local store (a SQLite file) [default: ~/.local/share/imx/imx.db]' -r -F
complete -c imx -n "__fish_imx_using_subcommand user; and __fish_seen_subcommand_from update" -l server -d 'A remote control plane: an `imx server` URL (token from IMX_TOKEN or `imx login`)' -r
complete -c imx -n "__fish_imx_using_subcommand user; and __fish_seen_subcommand_from update" -l context -d 'Use a named context (see `imx context list`) instead of the current one' -r
complete -c imx -n "__fish_imx_using_subcommand user; and __fish_seen_subcommand_from update" -s o -l output -d 'Output format for data on stdout; `template=TEXT` picks fields (see `imx help output`)' -r -f -a "table\t'Aligned columns for people (short ids, relative times)'
wide\t'The table with more columns (full ids, labels, ...)'
json\t'JSON: the model objects (times RFC 3339, durations in `*_ms`); lists are arrays, streams of records (run logs, audit tail) one object per line'
yaml\t'YAML: the same data as JSON'
csv\t'CSV: a header and the table\'s columns (full ids, RFC 3339 times)'
name\t'Bare ids or names, one per line'
template=\t'TEXT: a Jinja template per record, e.g. template=\'{{ id }} {{ status }}\''"
complete -c imx -n "__fish_imx_using_subcommand user; and __fish_seen_subcommand_from update" -l insecure -d 'Allow a plain http:// server that is not on this machine: tokens and passwords cross the network in clear (a warning each time). Loopback needs no flag'
complete -c imx -n "__fish_imx_using_subcommand user; and __fish_seen_subcommand_from update" -s q -l quiet -d 'Print only data and errors: no status lines, hints or progress'
complete -c imx -n "__fish_imx_using_subcommand user; and __fish_seen_subcommand_from update" -s v -l verbose -d 'Say more (repeat for even more)'
complete -c imx -n "__fish_imx_using_subcommand user; and __fish_seen_subcommand_from update" -l no-color -d 'No colour (also when NO_COLOR is set or output is not a terminal)'
complete -c imx -n "__fish_imx_using_subcommand user; and __fish_seen_subcommand_from update" -s y -l yes -d 'Answer yes to confirmation prompts (needed for destructive commands in scripts)'
complete -c imx -n "__fish_imx_using_subcommand user; and __fish_seen_subcommand_from update" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c imx -n "__fish_imx_using_subcommand user; and __fish_seen_subcommand_from disable" -l store -d 'The local store (a SQLite file) [default: ~/.local/share/imx/imx.db]' -r -F
complete -c imx -n "__fish_imx_using_subcommand user; and __fish_seen_subcommand_from disable" -l server -d 'A remote control plane: an `imx server` URL (token from IMX_TOKEN or `imx login`)' -r
complete -c imx -n "__fish_imx_using_subcommand user; and __fish_seen_subcommand_from disable" -l context -d 'Use a named context (see `imx context list`) instead of the current one' -r
complete -c imx -n "__fish_imx_using_subcommand user; and __fish_seen_subcommand_from disable" -s o -l output -d 'Output format for data on stdout; `template=TEXT` picks fields (see `imx help output`)' -r -f -a "table\t'Aligned columns for people (short ids, relative times)'
wide\t'The table with more columns (full ids, labels, ...)'
json\t'JSON: the model objects (times RFC 3339, durations in `*_ms`); lists are arrays, streams of records (run logs, audit tail) one object per line'
yaml\t'YAML: the same data as JSON'
csv\t'CSV: a header and the table\'s columns (full ids, RFC 3339 times)'
name\t'Bare ids or names, one per line'
template=\t'TEXT: a Jinja template per record, e.g. template=\'{{ id }} {{ status }}\''"
complete -c imx -n "__fish_imx_using_subcommand user; and __fish_seen_subcommand_from disable" -l insecure -d 'Allow a plain http:// server that is not on this machine: tokens and passwords cross the network in clear (a warning each time). Loopback needs no flag'
complete -c imx -n "__fish_imx_using_subcommand user; and __fish_seen_subcommand_from disable" -s q -l quiet -d 'Print only data and errors: no status lines, hints or progress'
complete -c imx -n "__fish_imx_using_subcommand user; and __fish_seen_subcommand_from disable" -s v -l verbose -d 'Say more (repeat for even more)'
complete -c imx -n "__fish_imx_using_subcommand user; and __fish_seen_subcommand_from disable" -l no-color -d 'No colour (also when NO_COLOR is set or output is not a terminal)'
complete -c imx -n "__fish_imx_using_subcommand user; and __fish_seen_subcommand_from disable" -s y -l yes -d 'Answer yes to confirmation prompts (needed for destructive commands in scripts)'
complete -c imx -n "__fish_imx_using_subcommand user; and __fish_seen_subcommand_from disable" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c imx -n "__fish_imx_using_subcommand user; and __fish_seen_subcommand_from enable" -l store -d 'The local store (a SQLite file) [default: ~/.local/share/imx/imx.db]' -r -F
complete -c imx -n "__fish_imx_using_subcommand user; and __fish_seen_subcommand_from enable" -l server -d 'A remote control plane: an `imx server` URL (token from IMX_TOKEN or `imx login`)' -r
complete -c imx -n "__fish_imx_using_subcommand user; and __fish_seen_subcommand_from enable" -l context -d 'Use a named context (see `imx context list`) instead of the current one' -r
complete -c imx -n "__fish_imx_using_subcommand user; and __fish_seen_subcommand_from enable" -s o -l output -d 'Output format for data on stdout; `template=TEXT` picks fields (see `imx help output`)' -r -f -a "table\t'Aligned columns for people (short ids, relative times)'
wide\t'The table with more columns (full ids, labels, ...)'
json\t'JSON: the model objects (times RFC 3339, durations in `*_ms`); lists are arrays, streams of records (run logs, audit tail) one object per line'
yaml\t'YAML: the same data as JSON'
csv\t'CSV: a header and the table\'s columns (full ids, RFC 3339 times)'
name\t'Bare ids or names, one per line'
template=\t'TEXT: a Jinja template per record, e.g. template=\'{{ id }} {{ status }}\''"
complete -c imx -n "__fish_imx_using_subcommand user; and __fish_seen_subcommand_from enable" -l insecure -d 'Allow a plain http:// server that is not on this machine: tokens and passwords cross the network in clear (a warning each time). Loopback needs no flag'
complete -c imx -n "__fish_imx_using_subcommand user; and __fish_seen_subcommand_from enable" -s q -l quiet -d 'Print only data and errors: no status lines, hints or progress'
complete -c imx -n "__fish_imx_using_subcommand user; and __fish_seen_subcommand_from enable" -s v -l verbose -d 'Say more (repeat for even more)'
complete -c imx -n "__fish_imx_using_subcommand user; and __fish_seen_subcommand_from enable" -l no-color -d 'No colour (also when NO_COLOR is set or output is not a terminal)'
complete -c imx -n "__fish_imx_using_subcommand user; and __fish_seen_subcommand_from enable" -s y -l yes -d 'Answer yes to confirmation prompts (needed for destructive commands in scripts)'
complete -c imx -n "__fish_imx_using_subcommand user; and __fish_seen_subcommand_from enable" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c imx -n "__fish_imx_using_subcommand user; and __fish_seen_subcommand_from delete" -l store -d 'The local store (a SQLite file) [default: ~/.local/share/imx/imx.db]' -r -F
complete -c imx -n "__fish_imx_using_subcommand user; and __fish_seen_subcommand_from delete" -l server -d 'A remote control plane: an `imx server` URL (token from IMX_TOKEN or `imx login`)' -r
complete -c imx -n "__fish_imx_using_subcommand user; and __fish_seen_subcommand_from delete" -l context -d 'Use a named context (see `imx context list`) instead of the current one' -r
complete -c imx -n "__fish_imx_using_subcommand user; and __fish_seen_subcommand_from delete" -s o -l output -d 'Output format for data on stdout; `template=TEXT` picks fields (see `imx help output`)' -r -f -a "table\t'Aligned columns for people (short ids, relative times)'
wide\t'The table with more columns (full ids, labels, ...)'
json\t'JSON: the model objects (times RFC 3339, durations in `*_ms`); lists are arrays, streams of records (run logs, audit tail) one object per line'
yaml\t'YAML: the same data as JSON'
csv\t'CSV: a header and the table\'s columns (full ids, RFC 3339 times)'
name\t'Bare ids or names, one per line'
template=\t'TEXT: a Jinja template per record, e.g. template=\'{{ id }} {{ status }}\''"
complete -c imx -n "__fish_imx_using_subcommand user; and __fish_seen_subcommand_from delete" -l insecure -d 'Allow a plain http:// server that is not on this machine: tokens and passwords cross the network in clear (a warning each time). Loopback needs no flag'
complete -c imx -n "__fish_imx_using_subcommand user; and __fish_seen_subcommand_from delete" -s q -l quiet -d 'Print only data and errors: no status lines, hints or progress'
complete -c imx -n "__fish_imx_using_subcommand user; and __fish_seen_subcommand_from delete" -s v -l verbose -d 'Say more (repeat for even more)'
complete -c imx -n "__fish_imx_using_subcommand user; and __fish_seen_subcommand_from delete" -l no-color -d 'No colour (also when NO_COLOR is set or output is not a terminal)'
complete -c imx -n "__fish_imx_using_subcommand user; and __fish_seen_subcommand_from delete" -s y -l yes -d 'Answer yes to confirmation prompts (needed for destructive commands in scripts)'
complete -c imx -n "__fish_imx_using_subcommand user; and __fish_seen_subcommand_from delete" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c imx -n "__fish_imx_using_subcommand user; and __fish_seen_subcommand_from passwd" -l store -d 'The local store (a SQLite file) [default: ~/.local/share/imx/imx.db]' -r -F
complete -c imx -n "__fish_imx_using_subcommand user; and __fish_seen_subcommand_from passwd" -l server -d 'A remote control plane: an `imx server` URL (token from IMX_TOKEN or `imx login`)' -r
complete -c imx -n "__fish_imx_using_subcommand user; and __fish_seen_subcommand_from passwd" -l context -d 'Use a named context (see `imx context list`) instead of the current one' -r
complete -c imx -n "__fish_imx_using_subcommand user; and __fish_seen_subcommand_from passwd" -s o -l output -d 'Output format for data on stdout; `template=TEXT` picks fields (see `imx help output`)' -r -f -a "table\t'Aligned columns for people (short ids, relative times)'
wide\t'The table with more columns (full ids, labels, ...)'
json\t'JSON: the model objects (times RFC 3339, durations in `*_ms`); lists are arrays, streams of records (run logs, audit tail) one object per line'
yaml\t'YAML: the same data as JSON'
csv\t'CSV: a header and the table\'s columns (full ids, RFC 3339 times)'
name\t'Bare ids or names, one per line'
template=\t'TEXT: a Jinja template per record, e.g. template=\'{{ id }} {{ status }}\''"
complete -c imx -n "__fish_imx_using_subcommand user; and __fish_seen_subcommand_from passwd" -l password-stdin -d 'Read the new password from stdin (first line; the second with --current-password-stdin)'
complete -c imx -n "__fish_imx_using_subcommand user; and __fish_seen_subcommand_from passwd" -l current-password-stdin -d 'Read your current password from the first line of stdin (changing your own)'
complete -c imx -n "__fish_imx_using_subcommand user; and __fish_seen_subcommand_from passwd" -l insecure -d 'Allow a plain http:// server that is not on this machine: tokens and passwords cross the network in clear (a warning each time). Loopback needs no flag'
complete -c imx -n "__fish_imx_using_subcommand user; and __fish_seen_subcommand_from passwd" -s q -l quiet -d 'Print only data and errors: no status lines, hints or progress'
complete -c imx -n "__fish_imx_using_subcommand user; and __fish_seen_subcommand_from passwd" -s v -l verbose -d 'Say more (repeat for even more)'
complete -c imx -n "__fish_imx_using_subcommand user; and __fish_seen_subcommand_from passwd" -l no-color -d 'No colour (also when NO_COLOR is set or output is not a terminal)'
complete -c imx -n "__fish_imx_using_subcommand user; and __fish_seen_subcommand_from passwd" -s y -l yes -d 'Answer yes to confirmation prompts (needed for destructive commands in scripts)'
complete -c imx -n "__fish_imx_using_subcommand user; and __fish_seen_subcommand_from passwd" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c imx -n "__fish_imx_using_subcommand user; and __fish_seen_subcommand_from unlock" -l store -d 'The local store (a SQLite file) [default: ~/.local/share/imx/imx.db]' -r -F
complete -c imx -n "__fish_imx_using_subcommand user; and __fish_seen_subcommand_from unlock" -l server -d 'A remote control plane: an `imx server` URL (token from IMX_TOKEN or `imx login`)' -r
complete -c imx -n "__fish_imx_using_subcommand user; and __fish_seen_subcommand_from unlock" -l context -d 'Use a named context (see `imx context list`) instead of the current one' -r
complete -c imx -n "__fish_imx_using_subcommand user; and __fish_seen_subcommand_from unlock" -s o -l output -d 'Output format for data on stdout; `template=TEXT` picks fields (see `imx help output`)' -r -f -a "table\t'Aligned columns for people (short ids, relative times)'
wide\t'The table with more columns (full ids, labels, ...)'
json\t'JSON: the model objects (times RFC 3339, durations in `*_ms`); lists are arrays, streams of records (run logs, audit tail) one object per line'
yaml\t'YAML: the same data as JSON'
csv\t'CSV: a header and the table\'s columns (full ids, RFC 3339 times)'
name\t'Bare ids or names, one per line'
template=\t'TEXT: a Jinja template per record, e.g. template=\'{{ id }} {{ status }}\''"
complete -c imx -n "__fish_imx_using_subcommand user; and __fish_seen_subcommand_from unlock" -l insecure -d 'Allow a plain http:// server that is not on this machine: tokens and passwords cross the network in clear (a warning each time). Loopback needs no flag'
complete -c imx -n "__fish_imx_using_subcommand user; and __fish_seen_subcommand_from unlock" -s q -l quiet -d 'Print only data and errors: no status lines, hints or progress'
complete -c imx -n "__fish_imx_using_subcommand user; and __fish_seen_subcommand_from unlock" -s v -l verbose -d 'Say more (repeat for even more)'
complete -c imx -n "__fish_imx_using_subcommand user; and __fish_seen_subcommand_from unlock" -l no-color -d 'No colour (also when NO_COLOR is set or output is not a terminal)'
complete -c imx -n "__fish_imx_using_subcommand user; and __fish_seen_subcommand_from unlock" -s y -l yes -d 'Answer yes to confirmation prompts (needed for destructive commands in scripts)'
complete -c imx -n "__fish_imx_using_subcommand user; and __fish_seen_subcommand_from unlock" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c imx -n "__fish_imx_using_subcommand token; and not __fish_seen_subcommand_from create list revoke" -l store -d 'The local store (a SQLite file) [default: ~/.local/share/imx/imx.db]' -r -F
complete -c imx -n "__fish_imx_using_subcommand token; and not __fish_seen_subcommand_from create list revoke" -l server -d 'A remote control plane: an `imx server` URL (token from IMX_TOKEN or `imx login`)' -r
complete -c imx -n "__fish_imx_using_subcommand token; and not __fish_seen_subcommand_from create list revoke" -l context -d 'Use a named context (see `imx context list`) instead of the current one' -r
complete -c imx -n "__fish_imx_using_subcommand token; and not __fish_seen_subcommand_from create list revoke" -s o -l output -d 'Output format for data on stdout; `template=TEXT` picks fields (see `imx help output`)' -r -f -a "table\t'Aligned columns for people (short ids, relative times)'
wide\t'The table with more columns (full ids, labels, ...)'
json\t'JSON: the model objects (times RFC 3339, durations in `*_ms`); lists are arrays, streams of records (run logs, audit tail) one object per line'
yaml\t'YAML: the same data as JSON'
csv\t'CSV: a header and the table\'s columns (full ids, RFC 3339 times)'
name\t'Bare ids or names, one per line'
template=\t'TEXT: a Jinja template per record, e.g. template=\'{{ id }} {{ status }}\''"
complete -c imx -n "__fish_imx_using_subcommand token; and not __fish_seen_subcommand_from create list revoke" -l insecure -d 'Allow a plain http:// server that is not on this machine: tokens and passwords cross the network in clear (a warning each time). Loopback needs no flag'
complete -c imx -n "__fish_imx_using_subcommand token; and not __fish_seen_subcommand_from create list revoke" -s q -l quiet -d 'Print only data and errors: no status lines, hints or progress'
complete -c imx -n "__fish_imx_using_subcommand token; and not __fish_seen_subcommand_from create list revoke" -s v -l verbose -d 'Say more (repeat for even more)'
complete -c imx -n "__fish_imx_using_subcommand token; and not __fish_seen_subcommand_from create list revoke" -l no-color -d 'No colour (also when NO_COLOR is set or output is not a terminal)'
complete -c imx -n "__fish_imx_using_subcommand token; and not __fish_seen_subcommand_from create list revoke" -s y -l yes -d 'Answer yes to confirmation prompts (needed for destructive commands in scripts)'
complete -c imx -n "__fish_imx_using_subcommand token; and not __fish_seen_subcommand_from create list revoke" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c imx -n "__fish_imx_using_subcommand token; and not __fish_seen_subcommand_from create list revoke" -f -a "create" -d 'Create a token; its secret is printed once and never again'
complete -c imx -n "__fish_imx_using_subcommand token; and not __fish_seen_subcommand_from create list revoke" -f -a "list" -d 'List tokens (never their secrets)'
complete -c imx -n "__fish_imx_using_subcommand token; and not __fish_seen_subcommand_from create list revoke" -f -a "revoke" -d 'Revoke a token: it stops working at once'
complete -c imx -n "__fish_imx_using_subcommand token; and __fish_seen_subcommand_from create" -l name -d 'A name to revoke it by [default: generated]' -r
complete -c imx -n "__fish_imx_using_subcommand token; and __fish_seen_subcommand_from create" -l user -d 'The user the token acts as' -r
complete -c imx -n "__fish_imx_using_subcommand token; and __fish_seen_subcommand_from create" -l role -d 'The token\'s own role: admin, operator, viewer or agent' -r
complete -c imx -n "__fish_imx_using_subcommand token; and __fish_seen_subcommand_from create" -l expires -d 'Lifetime, e.g. 12h, 7d, 30d [default: the longest allowed, 90d unless configured]' -r
complete -c imx -n "__fish_imx_using_subcommand token; and __fish_seen_subcommand_from create" -l store -d 'The local store (a SQLite file) [default: ~/.local/share/imx/imx.db]' -r -F
complete -c imx -n "__fish_imx_using_subcommand token; and __fish_seen_subcommand_from create" -l server -d 'A remote control plane: an `imx server` URL (token from IMX_TOKEN or `imx login`)' -r
complete -c imx -n "__fish_imx_using_subcommand token; and __fish_seen_subcommand_from create" -l context -d 'Use a named context (see `imx context list`) instead of the current one' -r
complete -c imx -n "__fish_imx_using_subcommand token; and __fish_seen_subcommand_from create" -s o -l output -d 'Output format for data on stdout; `template=TEXT` picks fields (see `imx help output`)' -r -f -a "table\t'Aligned columns for people (short ids, relative times)'
wide\t'The table with more columns (full ids, labels, ...)'
json\t'JSON: the model objects (times RFC 3339, durations in `*_ms`); lists are arrays, streams of records (run logs, audit tail) one object per line'
yaml\t'YAML: the same data as JSON'
csv\t'CSV: a header and the table\'s columns (full ids, RFC 3339 times)'
name\t'Bare ids or names, one per line'
template=\t'TEXT: a Jinja template per record, e.g. template=\'{{ id }} {{ status }}\''"
complete -c imx -n "__fish_imx_using_subcommand token; and __fish_seen_subcommand_from create" -l insecure -d 'Allow a plain http:// server that is not on this machine: tokens and passwords cross the network in clear (a warning each time). Loopback needs no flag'
complete -c imx -n "__fish_imx_using_subcommand token; and __fish_seen_subcommand_from create" -s q -l quiet -d 'Print only data and errors: no status lines, hints or progress'
complete -c imx -n "__fish_imx_using_subcommand token; and __fish_seen_subcommand_from create" -s v -l verbose -d 'Say more (repeat for even more)'
complete -c imx -n "__fish_imx_using_subcommand token; and __fish_seen_subcommand_from create" -l no-color -d 'No colour (also when NO_COLOR is set or output is not a terminal)'
complete -c imx -n "__fish_imx_using_subcommand token; and __fish_seen_subcommand_from create" -s y -l yes -d 'Answer yes to confirmation prompts (needed for destructive commands in scripts)'
complete -c imx -n "__fish_imx_using_subcommand token; and __fish_seen_subcommand_from create" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c imx -n "__fish_imx_using_subcommand token; and __fish_seen_subcommand_from list" -l store -d 'The local store (a SQLite file) [default: ~/.local/share/imx/imx.db]' -r -F
complete -c imx -n "__fish_imx_using_subcommand token; and __fish_seen_subcommand_from list" -l server -d 'A remote control plane: an `imx server` URL (token from IMX_TOKEN or `imx login`)' -r
complete -c imx -n "__fish_imx_using_subcommand token; and __fish_seen_subcommand_from list" -l context -d 'Use a named context (see `imx context list`) instead of the current one' -r
complete -c imx -n "__fish_imx_using_subcommand token; and __fish_seen_subcommand_from list" -s o -l output -d 'Output format for data on stdout; `template=TEXT` picks fields (see `imx help output`)' -r -f -a "table\t'Aligned columns for people (short ids, relative times)'
wide\t'The table with more columns (full ids, labels, ...)'
json\t'JSON: the model objects (times RFC 3339, durations in `*_ms`); lists are arrays, streams of records (run logs, audit tail) one object per line'
yaml\t'YAML: the same data as JSON'
csv\t'CSV: a header and the table\'s columns (full ids, RFC 3339 times)'
name\t'Bare ids or names, one per line'
template=\t'TEXT: a Jinja template per record, e.g. template=\'{{ id }} {{ status }}\''"
complete -c imx -n "__fish_imx_using_subcommand token; and __fish_seen_subcommand_from list" -l insecure -d 'Allow a plain http:// server that is not on this machine: tokens and passwords cross the network in clear (a warning each time). Loopback needs no flag'
complete -c imx -n "__fish_imx_using_subcommand token; and __fish_seen_subcommand_from list" -s q -l quiet -d 'Print only data and errors: no status lines, hints or progress'
complete -c imx -n "__fish_imx_using_subcommand token; and __fish_seen_subcommand_from list" -s v -l verbose -d 'Say more (repeat for even more)'
complete -c imx -n "__fish_imx_using_subcommand token; and __fish_seen_subcommand_from list" -l no-color -d 'No colour (also when NO_COLOR is set or output is not a terminal)'
complete -c imx -n "__fish_imx_using_subcommand token; and __fish_seen_subcommand_from list" -s y -l yes -d 'Answer yes to confirmation prompts (needed for destructive commands in scripts)'
complete -c imx -n "__fish_imx_using_subcommand token; and __fish_seen_subcommand_from list" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c imx -n "__fish_imx_using_subcommand token; and __fish_seen_subcommand_from revoke" -l store -d 'The local store (a SQLite file) [default: ~/.local/share/imx/imx.db]' -r -F
complete -c imx -n "__fish_imx_using_subcommand token; and __fish_seen_subcommand_from revoke" -l server -d 'A remote control plane: an `imx server` URL (token from IMX_TOKEN or `imx login`)' -r
complete -c imx -n "__fish_imx_using_subcommand token; and __fish_seen_subcommand_from revoke" -l context -d 'Use a named context (see `imx context list`) instead of the current one' -r
complete -c imx -n "__fish_imx_using_subcommand token; and __fish_seen_subcommand_from revoke" -s o -l output -d 'Output format for data on stdout; `template=TEXT` picks fields (see `imx help output`)' -r -f -a "table\t'Aligned columns for people (short ids, relative times)'
wide\t'The table with more columns (full ids, labels, ...)'
json\t'JSON: the model objects (times RFC 3339, durations in `*_ms`); lists are arrays, streams of records (run logs, audit tail) one object per line'
yaml\t'YAML: the same data as JSON'
csv\t'CSV: a header and the table\'s columns (full ids, RFC 3339 times)'
name\t'Bare ids or names, one per line'
template=\t'TEXT: a Jinja template per record, e.g. template=\'{{ id }} {{ status }}\''"
complete -c imx -n "__fish_imx_using_subcommand token; and __fish_seen_subcommand_from revoke" -l insecure -d 'Allow a plain http:// server that is not on this machine: tokens and passwords cross the network in clear (a warning each time). Loopback needs no flag'
complete -c imx -n "__fish_imx_using_subcommand token; and __fish_seen_subcommand_from revoke" -s q -l quiet -d 'Print only data and errors: no status lines, hints or progress'
complete -c imx -n "__fish_imx_using_subcommand token; and __fish_seen_subcommand_from revoke" -s v -l verbose -d 'Say more (repeat for even more)'
complete -c imx -n "__fish_imx_using_subcommand token; and __fish_seen_subcommand_from revoke" -l no-color -d 'No colour (also when NO_COLOR is set or output is not a terminal)'
complete -c imx -n "__fish_imx_using_subcommand token; and __fish_seen_subcommand_from revoke" -s y -l yes -d 'Answer yes to confirmation prompts (needed for destructive commands in scripts)'
complete -c imx -n "__fish_imx_using_subcommand token; and __fish_seen_subcommand_from revoke" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c imx -n "__fish_imx_using_subcommand login" -s u -l user -d 'User name [default: your OS user name]' -r
complete -c imx -n "__fish_imx_using_subcommand login" -l store -d 'The local store (a SQLite file) [default: ~/.local/share/imx/imx.db]' -r -F
complete -c imx -n "__fish_imx_using_subcommand login" -l server -d 'A remote control plane: an `imx server` URL (token from IMX_TOKEN or `imx login`)' -r
complete -c imx -n "__fish_imx_using_subcommand login" -l context -d 'Use a named context (see `imx context list`) instead of the current one' -r
complete -c imx -n "__fish_imx_using_subcommand login" -s o -l output -d 'Output format for data on stdout; `template=TEXT` picks fields (see `imx help output`)' -r -f -a "table\t'Aligned columns for people (short ids, relative times)'
wide\t'The table with more columns (full ids, labels, ...)'
json\t'JSON: the model objects (times RFC 3339, durations in `*_ms`); lists are arrays, streams of records (run logs, audit tail) one object per line'
yaml\t'YAML: the same data as JSON'
csv\t'CSV: a header and the table\'s columns (full ids, RFC 3339 times)'
name\t'Bare ids or names, one per line'
template=\t'TEXT: a Jinja template per record, e.g. template=\'{{ id }} {{ status }}\''"
complete -c imx -n "__fish_imx_using_subcommand login" -l password-stdin -d 'Read the password from stdin (first line)'
complete -c imx -n "__fish_imx_using_subcommand login" -l with-token -d 'Read an API token (imx_...) from stdin and keep it, instead of a password'
complete -c imx -n "__fish_imx_using_subcommand login" -l no-insecure-storage -d 'Fail rather than store the token in a file when no OS keyring is available'
complete -c imx -n "__fish_imx_using_subcommand login" -l insecure -d 'Allow a plain http:// server that is not on this machine: tokens and passwords cross the network in clear (a warning each time). Loopback needs no flag'
complete -c imx -n "__fish_imx_using_subcommand login" -s q -l quiet -d 'Print only data and errors: no status lines, hints or progress'
complete -c imx -n "__fish_imx_using_subcommand login" -s v -l verbose -d 'Say more (repeat for even more)'
complete -c imx -n "__fish_imx_using_subcommand login" -l no-color -d 'No colour (also when NO_COLOR is set or output is not a terminal)'
complete -c imx -n "__fish_imx_using_subcommand login" -s y -l yes -d 'Answer yes to confirmation prompts (needed for destructive commands in scripts)'
complete -c imx -n "__fish_imx_using_subcommand login" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c imx -n "__fish_imx_using_subcommand logout" -s u -l user -d 'The login to end [default: the active one]' -r
complete -c imx -n "__fish_imx_using_subcommand logout" -l store -d 'The local store (a SQLite file) [default: ~/.local/share/imx/imx.db]' -r -F
complete -c imx -n "__fish_imx_using_subcommand logout" -l server -d 'A remote control plane: an `imx server` URL (token from IMX_TOKEN or `imx login`)' -r
complete -c imx -n "__fish_imx_using_subcommand logout" -l context -d 'Use a named context (see `imx context list`) instead of the current one' -r
complete -c imx -n "__fish_imx_using_subcommand logout" -s o -l output -d 'Output format for data on stdout; `template=TEXT` picks fields (see `imx help output`)' -r -f -a "table\t'Aligned columns for people (short ids, relative times)'
wide\t'The table with more columns (full ids, labels, ...)'
json\t'JSON: the model objects (times RFC 3339, durations in `*_ms`); lists are arrays, streams of records (run logs, audit tail) one object per line'
yaml\t'YAML: the same data as JSON'
csv\t'CSV: a header and the table\'s columns (full ids, RFC 3339 times)'
name\t'Bare ids or names, one per line'
template=\t'TEXT: a Jinja template per record, e.g. template=\'{{ id }} {{ status }}\''"
complete -c imx -n "__fish_imx_using_subcommand logout" -l insecure -d 'Allow a plain http:// server that is not on this machine: tokens and passwords cross the network in clear (a warning each time). Loopback needs no flag'
complete -c imx -n "__fish_imx_using_subcommand logout" -s q -l quiet -d 'Print only data and errors: no status lines, hints or progress'
complete -c imx -n "__fish_imx_using_subcommand logout" -s v -l verbose -d 'Say more (repeat for even more)'
complete -c imx -n "__fish_imx_using_subcommand logout" -l no-color -d 'No colour (also when NO_COLOR is set or output is not a terminal)'
complete -c imx -n "__fish_imx_using_subcommand logout" -s y -l yes -d 'Answer yes to confirmation prompts (needed for destructive commands in scripts)'
complete -c imx -n "__fish_imx_using_subcommand logout" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c imx -n "__fish_imx_using_subcommand whoami" -l store -d 'The local store (a SQLite file) [default: ~/.local/share/imx/imx.db]' -r -F
complete -c imx -n "__fish_imx_using_subcommand whoami" -l server -d 'A remote control plane: an `imx server` URL (token from IMX_TOKEN or `imx login`)' -r
complete -c imx -n "__fish_imx_using_subcommand whoami" -l context -d 'Use a named context (see `imx context list`) instead of the current one' -r
complete -c imx -n "__fish_imx_using_subcommand whoami" -s o -l output -d 'Output format for data on stdout; `template=TEXT` picks fields (see `imx help output`)' -r -f -a "table\t'Aligned columns for people (short ids, relative times)'
wide\t'The table with more columns (full ids, labels, ...)'
json\t'JSON: the model objects (times RFC 3339, durations in `*_ms`); lists are arrays, streams of records (run logs, audit tail) one object per line'
yaml\t'YAML: the same data as JSON'
csv\t'CSV: a header and the table\'s columns (full ids, RFC 3339 times)'
name\t'Bare ids or names, one per line'
template=\t'TEXT: a Jinja template per record, e.g. template=\'{{ id }} {{ status }}\''"
complete -c imx -n "__fish_imx_using_subcommand whoami" -l insecure -d 'Allow a plain http:// server that is not on this machine: tokens and passwords cross the network in clear (a warning each time). Loopback needs no flag'
complete -c imx -n "__fish_imx_using_subcommand whoami" -s q -l quiet -d 'Print only data and errors: no status lines, hints or progress'
complete -c imx -n "__fish_imx_using_subcommand whoami" -s v -l verbose -d 'Say more (repeat for even more)'
complete -c imx -n "__fish_imx_using_subcommand whoami" -l no-color -d 'No colour (also when NO_COLOR is set or output is not a terminal)'
complete -c imx -n "__fish_imx_using_subcommand whoami" -s y -l yes -d 'Answer yes to confirmation prompts (needed for destructive commands in scripts)'
complete -c imx -n "__fish_imx_using_subcommand whoami" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c imx -n "__fish_imx_using_subcommand auth; and not __fish_seen_subcommand_from status switch" -l store -d 'The local store (a SQLite file) [default: ~/.local/share/imx/imx.db]' -r -F
complete -c imx -n "__fish_imx_using_subcommand auth; and not __fish_seen_subcommand_from status switch" -l server -d 'A remote control plane: an `imx server` URL (token from IMX_TOKEN or `imx login`)' -r
complete -c imx -n "__fish_imx_using_subcommand auth; and not __fish_seen_subcommand_from status switch" -l context -d 'Use a named context (see `imx context list`) instead of the current one' -r
complete -c imx -n "__fish_imx_using_subcommand auth; and not __fish_seen_subcommand_from status switch" -s o -l output -d 'Output format for data on stdout; `template=TEXT` picks fields (see `imx help output`)' -r -f -a "table\t'Aligned columns for people (short ids, relative times)'
wide\t'The table with more columns (full ids, labels, ...)'
json\t'JSON: the model objects (times RFC 3339, durations in `*_ms`); lists are arrays, streams of records (run logs, audit tail) one object per line'
yaml\t'YAML: the same data as JSON'
csv\t'CSV: a header and the table\'s columns (full ids, RFC 3339 times)'
name\t'Bare ids or names, one per line'
template=\t'TEXT: a Jinja template per record, e.g. template=\'{{ id }} {{ status }}\''"
complete -c imx -n "__fish_imx_using_subcommand auth; and not __fish_seen_subcommand_from status switch" -l insecure -d 'Allow a plain http:// server that is not on this machine: tokens and passwords cross the network in clear (a warning each time). Loopback needs no flag'
complete -c imx -n "__fish_imx_using_subcommand auth; and not __fish_seen_subcommand_from status switch" -s q -l quiet -d 'Print only data and errors: no status lines, hints or progress'
complete -c imx -n "__fish_imx_using_subcommand auth; and not __fish_seen_subcommand_from status switch" -s v -l verbose -d 'Say more (repeat for even more)'
complete -c imx -n "__fish_imx_using_subcommand auth; and not __fish_seen_subcommand_from status switch" -l no-color -d 'No colour (also when NO_COLOR is set or output is not a terminal)'
complete -c imx -n "__fish_imx_using_subcommand auth; and not __fish_seen_subcommand_from status switch" -s y -l yes -d 'Answer yes to confirmation prompts (needed for destructive commands in scripts)'
complete -c imx -n "__fish_imx_using_subcommand auth; and not __fish_seen_subcommand_from status switch" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c imx -n "__fish_imx_using_subcommand auth; and not __fish_seen_subcommand_from status switch" -f -a "status" -d 'Show the context, server or store, user, role, token expiry and where the token is kept'
complete -c imx -n "__fish_imx_using_subcommand auth; and not __fish_seen_subcommand_from status switch" -f -a "switch" -d 'Make another login to the same server the active one'
complete -c imx -n "__fish_imx_using_subcommand auth; and __fish_seen_subcommand_from status" -l store -d 'The local store (a SQLite file) [default: ~/.local/share/imx/imx.db]' -r -F
complete -c imx -n "__fish_imx_using_subcommand auth; and __fish_seen_subcommand_from status" -l server -d 'A remote control plane: an `imx server` URL (token from IMX_TOKEN or `imx login`)' -r
complete -c imx -n "__fish_imx_using_subcommand auth; and __fish_seen_subcommand_from status" -l context -d 'Use a named context (see `imx context list`) instead of the current one' -r
complete -c imx -n "__fish_imx_using_subcommand auth; and __fish_seen_subcommand_from status" -s o -l output -d 'Output format for data on stdout; `template=TEXT` picks fields (see `imx help output`)' -r -f -a "table\t'Aligned columns for people (short ids, relative times)'
wide\t'The table with more columns (full ids, labels, ...)'
json\t'JSON: the model objects (times RFC 3339, durations in `*_ms`); lists are arrays, streams of records (run logs, audit tail) one object per line'
yaml\t'YAML: the same data as JSON'
csv\t'CSV: a header and the table\'s columns (full ids, RFC 3339 times)'
name\t'Bare ids or names, one per line'
template=\t'TEXT: a Jinja template per record, e.g. template=\'{{ id }} {{ status }}\''"
complete -c imx -n "__fish_imx_using_subcommand auth; and __fish_seen_subcommand_from status" -l insecure -d 'Allow a plain http:// server that is not on this machine: tokens and passwords cross the network in clear (a warning each time). Loopback needs no flag'
complete -c imx -n "__fish_imx_using_subcommand auth; and __fish_seen_subcommand_from status" -s q -l quiet -d 'Print only data and errors: no status lines, hints or progress'
complete -c imx -n "__fish_imx_using_subcommand auth; and __fish_seen_subcommand_from status" -s v -l verbose -d 'Say more (repeat for even more)'
complete -c imx -n "__fish_imx_using_subcommand auth; and __fish_seen_subcommand_from status" -l no-color -d 'No colour (also when NO_COLOR is set or output is not a terminal)'
complete -c imx -n "__fish_imx_using_subcommand auth; and __fish_seen_subcommand_from status" -s y -l yes -d 'Answer yes to confirmation prompts (needed for destructive commands in scripts)'
complete -c imx -n "__fish_imx_using_subcommand auth; and __fish_seen_subcommand_from status" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c imx -n "__fish_imx_using_subcommand auth; and __fish_seen_subcommand_from switch" -l store -d 'The local store (a SQLite file) [default: ~/.local/share/imx/imx.db]' -r -F
complete -c imx -n "__fish_imx_using_subcommand auth; and __fish_seen_subcommand_from switch" -l server -d 'A remote control plane: an `imx server` URL (token from IMX_TOKEN or `imx login`)' -r
complete -c imx -n "__fish_imx_using_subcommand auth; and __fish_seen_subcommand_from switch" -l context -d 'Use a named context (see `imx context list`) instead of the current one' -r
complete -c imx -n "__fish_imx_using_subcommand auth; and __fish_seen_subcommand_from switch" -s o -l output -d 'Output format for data on stdout; `template=TEXT` picks fields (see `imx help output`)' -r -f -a "table\t'Aligned columns for people (short ids, relative times)'
wide\t'The table with more columns (full ids, labels, ...)'
json\t'JSON: the model objects (times RFC 3339, durations in `*_ms`); lists are arrays, streams of records (run logs, audit tail) one object per line'
yaml\t'YAML: the same data as JSON'
csv\t'CSV: a header and the table\'s columns (full ids, RFC 3339 times)'
name\t'Bare ids or names, one per line'
template=\t'TEXT: a Jinja template per record, e.g. template=\'{{ id }} {{ status }}\''"
complete -c imx -n "__fish_imx_using_subcommand auth; and __fish_seen_subcommand_from switch" -l insecure -d 'Allow a plain http:// server that is not on this machine: tokens and passwords cross the network in clear (a warning each time). Loopback needs no flag'
complete -c imx -n "__fish_imx_using_subcommand auth; and __fish_seen_subcommand_from switch" -s q -l quiet -d 'Print only data and errors: no status lines, hints or progress'
complete -c imx -n "__fish_imx_using_subcommand auth; and __fish_seen_subcommand_from switch" -s v -l verbose -d 'Say more (repeat for even more)'
complete -c imx -n "__fish_imx_using_subcommand auth; and __fish_seen_subcommand_from switch" -l no-color -d 'No colour (also when NO_COLOR is set or output is not a terminal)'
complete -c imx -n "__fish_imx_using_subcommand auth; and __fish_seen_subcommand_from switch" -s y -l yes -d 'Answer yes to confirmation prompts (needed for destructive commands in scripts)'
complete -c imx -n "__fish_imx_using_subcommand auth; and __fish_seen_subcommand_from switch" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c imx -n "__fish_imx_using_subcommand context; and not __fish_seen_subcommand_from add use list show remove" -l store -d 'The local store (a SQLite file) [default: ~/.local/share/imx/imx.db]' -r -F
complete -c imx -n "__fish_imx_using_subcommand context; and not __fish_seen_subcommand_from add use list show remove" -l server -d 'A remote control plane: an `imx server` URL (token from IMX_TOKEN or `imx login`)' -r
complete -c imx -n "__fish_imx_using_subcommand context; and not __fish_seen_subcommand_from add use list show remove" -l context -d 'Use a named context (see `imx context list`) instead of the current one' -r
complete -c imx -n "__fish_imx_using_subcommand context; and not __fish_seen_subcommand_from add use list show remove" -s o -l output -d 'Output format for data on stdout; `template=TEXT` picks fields (see `imx help output`)' -r -f -a "table\t'Aligned columns for people (short ids, relative times)'
wide\t'The table with more columns (full ids, labels, ...)'
json\t'JSON: the model objects (times RFC 3339, durations in `*_ms`); lists are arrays, streams of records (run logs, audit tail) one object per line'
yaml\t'YAML: the same data as JSON'
csv\t'CSV: a header and the table\'s columns (full ids, RFC 3339 times)'
name\t'Bare ids or names, one per line'
template=\t'TEXT: a Jinja template per record, e.g. template=\'{{ id }} {{ status }}\''"
complete -c imx -n "__fish_imx_using_subcommand context; and not __fish_seen_subcommand_from add use list show remove" -l insecure -d 'Allow a plain http:// server that is not on this machine: tokens and passwords cross the network in clear (a warning each time). Loopback needs no flag'
complete -c imx -n "__fish_imx_using_subcommand context; and not __fish_seen_subcommand_from add use list show remove" -s q -l quiet -d 'Print only data and errors: no status lines, hints or progress'
complete -c imx -n "__fish_imx_using_subcommand context; and not __fish_seen_subcommand_from add use list show remove" -s v -l verbose -d 'Say more (repeat for even more)'
complete -c imx -n "__fish_imx_using_subcommand context; and not __fish_seen_subcommand_from add use list show remove" -l no-color -d 'No colour (also when NO_COLOR is set or output is not a terminal)'
complete -c imx -n "__fish_imx_using_subcommand context; and not __fish_seen_subcommand_from add use list show remove" -s y -l yes -d 'Answer yes to confirmation prompts (needed for destructive commands in scripts)'
complete -c imx -n "__fish_imx_using_subcommand context; and not __fish_seen_subcommand_from add use list show remove" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c imx -n "__fish_imx_using_subcommand context; and not __fish_seen_subcommand_from add use list show remove" -f -a "add" -d 'Add (or replace) a context naming a server or a local store'
complete -c imx -n "__fish_imx_using_subcommand context; and not __fish_seen_subcommand_from add use list show remove" -f -a "use" -d 'Make a context the current one'
complete -c imx -n "__fish_imx_using_subcommand context; and not __fish_seen_subcommand_from add use list show remove" -f -a "list" -d 'List contexts; the current one is marked'
complete -c imx -n "__fish_imx_using_subcommand context; and not __fish_seen_subcommand_from add use list show remove" -f -a "show" -d 'Show a context (the current one by default)'
complete -c imx -n "__fish_imx_using_subcommand context; and not __fish_seen_subcommand_from add use list show remove" -f -a "remove" -d 'Remove a context'
complete -c imx -n "__fish_imx_using_subcommand context; and __fish_seen_subcommand_from add" -l ca -d 'A CA certificate (PEM) to trust for the server' -r -F
complete -c imx -n "__fish_imx_using_subcommand context; and __fish_seen_subcommand_from add" -l store -d 'The local store (a SQLite file) [default: ~/.local/share/imx/imx.db]' -r -F
complete -c imx -n "__fish_imx_using_subcommand context; and __fish_seen_subcommand_from add" -l server -d 'A remote control plane: an `imx server` URL (token from IMX_TOKEN or `imx login`)' -r
complete -c imx -n "__fish_imx_using_subcommand context; and __fish_seen_subcommand_from add" -l context -d 'Use a named context (see `imx context list`) instead of the current one' -r
complete -c imx -n "__fish_imx_using_subcommand context; and __fish_seen_subcommand_from add" -s o -l output -d 'Output format for data on stdout; `template=TEXT` picks fields (see `imx help output`)' -r -f -a "table\t'Aligned columns for people (short ids, relative times)'
wide\t'The table with more columns (full ids, labels, ...)'
json\t'JSON: the model objects (times RFC 3339, durations in `*_ms`); lists are arrays, streams of records (run logs, audit tail) one object per line'
yaml\t'YAML: the same data as JSON'
csv\t'CSV: a header and the table\'s columns (full ids, RFC 3339 times)'
name\t'Bare ids or names, one per line'
template=\t'TEXT: a Jinja template per record, e.g. template=\'{{ id }} {{ status }}\''"
complete -c imx -n "__fish_imx_using_subcommand context; and __fish_seen_subcommand_from add" -l use -d 'Also make it the current context'
complete -c imx -n "__fish_imx_using_subcommand context; and __fish_seen_subcommand_from add" -l insecure -d 'Allow a plain http:// server that is not on this machine: tokens and passwords cross the network in clear (a warning each time). Loopback needs no flag'
complete -c imx -n "__fish_imx_using_subcommand context; and __fish_seen_subcommand_from add" -s q -l quiet -d 'Print only data and errors: no status lines, hints or progress'
complete -c imx -n "__fish_imx_using_subcommand context; and __fish_seen_subcommand_from add" -s v -l verbose -d 'Say more (repeat for even more)'
complete -c imx -n "__fish_imx_using_subcommand context; and __fish_seen_subcommand_from add" -l no-color -d 'No colour (also when NO_COLOR is set or output is not a terminal)'
complete -c imx -n "__fish_imx_using_subcommand context; and __fish_seen_subcommand_from add" -s y -l yes -d 'Answer yes to confirmation prompts (needed for destructive commands in scripts)'
complete -c imx -n "__fish_imx_using_subcommand context; and __fish_seen_subcommand_from add" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c imx -n "__fish_imx_using_subcommand context; and __fish_seen_subcommand_from use" -l store -d 'The local store (a SQLite file) [default: ~/.local/share/imx/imx.db]' -r -F
complete -c imx -n "__fish_imx_using_subcommand context; and __fish_seen_subcommand_from use" -l server -d 'A remote control plane: an `imx server` URL (token from IMX_TOKEN or `imx login`)' -r
complete -c imx -n "__fish_imx_using_subcommand context; and __fish_seen_subcommand_from use" -l context -d 'Use a named context (see `imx context list`) instead of the current one' -r
complete -c imx -n "__fish_imx_using_subcommand context; and __fish_seen_subcommand_from use" -s o -l output -d 'Output format for data on stdout; `template=TEXT` picks fields (see `imx help output`)' -r -f -a "table\t'Aligned columns for people (short ids, relative times)'
wide\t'The table with more columns (full ids, labels, ...)'
json\t'JSON: the model objects (times RFC 3339, durations in `*_ms`); lists are arrays, streams of records (run logs, audit tail) one object per line'
yaml\t'YAML: the same data as JSON'
csv\t'CSV: a header and the table\'s columns (full ids, RFC 3339 times)'
name\t'Bare ids or names, one per line'
template=\t'TEXT: a Jinja template per record, e.g. template=\'{{ id }} {{ status }}\''"
complete -c imx -n "__fish_imx_using_subcommand context; and __fish_seen_subcommand_from use" -l insecure -d 'Allow a plain http:// server that is not on this machine: tokens and passwords cross the network in clear (a warning each time). Loopback needs no flag'
complete -c imx -n "__fish_imx_using_subcommand context; and __fish_seen_subcommand_from use" -s q -l quiet -d 'Print only data and errors: no status lines, hints or progress'
complete -c imx -n "__fish_imx_using_subcommand context; and __fish_seen_subcommand_from use" -s v -l verbose -d 'Say more (repeat for even more)'
complete -c imx -n "__fish_imx_using_subcommand context; and __fish_seen_subcommand_from use" -l no-color -d 'No colour (also when NO_COLOR is set or output is not a terminal)'
complete -c imx -n "__fish_imx_using_subcommand context; and __fish_seen_subcommand_from use" -s y -l yes -d 'Answer yes to confirmation prompts (needed for destructive commands in scripts)'
complete -c imx -n "__fish_imx_using_subcommand context; and __fish_seen_subcommand_from use" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c imx -n "__fish_imx_using_subcommand context; and __fish_seen_subcommand_from list" -l store -d 'The local store (a SQLite file) [default: ~/.local/share/imx/imx.db]' -r -F
complete -c imx -n "__fish_imx_using_subcommand context; and __fish_seen_subcommand_from list" -l server -d 'A remote control plane: an `imx server` URL (token from IMX_TOKEN or `imx login`)' -r
complete -c imx -n "__fish_imx_using_subcommand context; and __fish_seen_subcommand_from list" -l context -d 'Use a named context (see `imx context list`) instead of the current one' -r
complete -c imx -n "__fish_imx_using_subcommand context; and __fish_seen_subcommand_from list" -s o -l output -d 'Output format for data on stdout; `template=TEXT` picks fields (see `imx help output`)' -r -f -a "table\t'Aligned columns for people (short ids, relative times)'
wide\t'The table with more columns (full ids, labels, ...)'
json\t'JSON: the model objects (times RFC 3339, durations in `*_ms`); lists are arrays, streams of records (run logs, audit tail) one object per line'
yaml\t'YAML: the same data as JSON'
csv\t'CSV: a header and the table\'s columns (full ids, RFC 3339 times)'
name\t'Bare ids or names, one per line'
template=\t'TEXT: a Jinja template per record, e.g. template=\'{{ id }} {{ status }}\''"
complete -c imx -n "__fish_imx_using_subcommand context; and __fish_seen_subcommand_from list" -l insecure -d 'Allow a plain http:// server that is not on this machine: tokens and passwords cross the network in clear (a warning each time). Loopback needs no flag'
complete -c imx -n "__fish_imx_using_subcommand context; and __fish_seen_subcommand_from list" -s q -l quiet -d 'Print only data and errors: no status lines, hints or progress'
complete -c imx -n "__fish_imx_using_subcommand context; and __fish_seen_subcommand_from list" -s v -l verbose -d 'Say more (repeat for even more)'
complete -c imx -n "__fish_imx_using_subcommand context; and __fish_seen_subcommand_from list" -l no-color -d 'No colour (also when NO_COLOR is set or output is not a terminal)'
complete -c imx -n "__fish_imx_using_subcommand context; and __fish_seen_subcommand_from list" -s y -l yes -d 'Answer yes to confirmation prompts (needed for destructive commands in scripts)'
complete -c imx -n "__fish_imx_using_subcommand context; and __fish_seen_subcommand_from list" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c imx -n "__fish_imx_using_subcommand context; and __fish_seen_subcommand_from show" -l store -d 'The local store (a SQLite file) [default: ~/.local/share/imx/imx.db]' -r -F
complete -c imx -n "__fish_imx_using_subcommand context; and __fish_seen_subcommand_from show" -l server -d 'A remote control plane: an `imx server` URL (token from IMX_TOKEN or `imx login`)' -r
complete -c imx -n "__fish_imx_using_subcommand context; and __fish_seen_subcommand_from show" -l context -d 'Use a named context (see `imx context list`) instead of the current one' -r
complete -c imx -n "__fish_imx_using_subcommand context; and __fish_seen_subcommand_from show" -s o -l output -d 'Output format for data on stdout; `template=TEXT` picks fields (see `imx help output`)' -r -f -a "table\t'Aligned columns for people (short ids, relative times)'
wide\t'The table with more columns (full ids, labels, ...)'
json\t'JSON: the model objects (times RFC 3339, durations in `*_ms`); lists are arrays, streams of records (run logs, audit tail) one object per line'
yaml\t'YAML: the same data as JSON'
csv\t'CSV: a header and the table\'s columns (full ids, RFC 3339 times)'
name\t'Bare ids or names, one per line'
template=\t'TEXT: a Jinja template per record, e.g. template=\'{{ id }} {{ status }}\''"
complete -c imx -n "__fish_imx_using_subcommand context; and __fish_seen_subcommand_from show" -l insecure -d 'Allow a plain http:// server that is not on this machine: tokens and passwords cross the network in clear (a warning each time). Loopback needs no flag'
complete -c imx -n "__fish_imx_using_subcommand context; and __fish_seen_subcommand_from show" -s q -l quiet -d 'Print only data and errors: no status lines, hints or progress'
complete -c imx -n "__fish_imx_using_subcommand context; and __fish_seen_subcommand_from show" -s v -l verbose -d 'Say more (repeat for even more)'
complete -c imx -n "__fish_imx_using_subcommand context; and __fish_seen_subcommand_from show" -l no-color -d 'No colour (also when NO_COLOR is set or output is not a terminal)'
complete -c imx -n "__fish_imx_using_subcommand context; and __fish_seen_subcommand_from show" -s y -l yes -d 'Answer yes to confirmation prompts (needed for destructive commands in scripts)'
complete -c imx -n "__fish_imx_using_subcommand context; and __fish_seen_subcommand_from show" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c imx -n "__fish_imx_using_subcommand context; and __fish_seen_subcommand_from remove" -l store -d 'The local store (a SQLite file) [default: ~/.local/share/imx/imx.db]' -r -F
complete -c imx -n "__fish_imx_using_subcommand context; and __fish_seen_subcommand_from remove" -l server -d 'A remote control plane: an `imx server` URL (token from IMX_TOKEN or `imx login`)' -r
complete -c imx -n "__fish_imx_using_subcommand context; and __fish_seen_subcommand_from remove" -l context -d 'Use a named context (see `imx context list`) instead of the current one' -r
complete -c imx -n "__fish_imx_using_subcommand context; and __fish_seen_subcommand_from remove" -s o -l output -d 'Output format for data on stdout; `template=TEXT` picks fields (see `imx help output`)' -r -f -a "table\t'Aligned columns for people (short ids, relative times)'
wide\t'The table with more columns (full ids, labels, ...)'
json\t'JSON: the model objects (times RFC 3339, durations in `*_ms`); lists are arrays, streams of records (run logs, audit tail) one object per line'
yaml\t'YAML: the same data as JSON'
csv\t'CSV: a header and the table\'s columns (full ids, RFC 3339 times)'
name\t'Bare ids or names, one per line'
template=\t'TEXT: a Jinja template per record, e.g. template=\'{{ id }} {{ status }}\''"
complete -c imx -n "__fish_imx_using_subcommand context; and __fish_seen_subcommand_from remove" -l insecure -d 'Allow a plain http:// server that is not on this machine: tokens and passwords cross the network in clear (a warning each time). Loopback needs no flag'
complete -c imx -n "__fish_imx_using_subcommand context; and __fish_seen_subcommand_from remove" -s q -l quiet -d 'Print only data and errors: no status lines, hints or progress'
complete -c imx -n "__fish_imx_using_subcommand context; and __fish_seen_subcommand_from remove" -s v -l verbose -d 'Say more (repeat for even more)'
complete -c imx -n "__fish_imx_using_subcommand context; and __fish_seen_subcommand_from remove" -l no-color -d 'No colour (also when NO_COLOR is set or output is not a terminal)'
complete -c imx -n "__fish_imx_using_subcommand context; and __fish_seen_subcommand_from remove" -s y -l yes -d 'Answer yes to confirmation prompts (needed for destructive commands in scripts)'
complete -c imx -n "__fish_imx_using_subcommand context; and __fish_seen_subcommand_from remove" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c imx -n "__fish_imx_using_subcommand server" -l listen -d 'Address to listen on (port 0 picks a free port)' -r
complete -c imx -n "__fish_imx_using_subcommand server" -l agents -d 'Run this many agents inside the server process (the one-command dev setup; production agents are separate `imx agent run` processes). Their steps run in private temp directories with a clean environment' -r
complete -c imx -n "__fish_imx_using_subcommand server" -l agents-user -d 'Run the embedded agents\' steps as this user (name or uid), with no supplementary groups; required when the server runs as root' -r
complete -c imx -n "__fish_imx_using_subcommand server" -l agents-pass-env -d 'Pass this variable of the server\'s environment to the embedded agents\' steps (repeatable, or NAME,NAME); IMX_* names are refused' -r
complete -c imx -n "__fish_imx_using_subcommand server" -l tls-cert -d 'PEM certificate chain (leaf first) to serve HTTPS with; needs --tls-key' -r -F
complete -c imx -n "__fish_imx_using_subcommand server" -l tls-key -d 'PEM private key of --tls-cert' -r -F
complete -c imx -n "__fish_imx_using_subcommand server" -l rate-limit -d 'Requests per second allowed per token (bursts of twice that); 0 for no limit' -r
complete -c imx -n "__fish_imx_using_subcommand server" -l ip-rate-limit -d 'Requests per second allowed per IP address for requests without a token; 0 for no limit' -r
complete -c imx -n "__fish_imx_using_subcommand server" -l login-rate-limit -d 'Login attempts per minute allowed per IP address (a burst may spend ten seconds\' worth at once); 0 for no limit' -r
complete -c imx -n "__fish_imx_using_subcommand server" -l login-global-rate-limit -d 'Login attempts per minute allowed to the whole server, from all addresses together; 0 for no limit' -r
complete -c imx -n "__fish_imx_using_subcommand server" -l max-connections -d 'Open connections allowed at once; more are answered 503 and closed [default: the open-file limit less a quarter (at least 64 kept), at most 10000]' -r
complete -c imx -n "__fish_imx_using_subcommand server" -l header-timeout -d 'Close a connection whose request head is not complete this long after its first byte' -r
complete -c imx -n "__fish_imx_using_subcommand server" -l idle-timeout -d 'Close a kept-alive connection that sends no new request for this long' -r
complete -c imx -n "__fish_imx_using_subcommand server" -l write-timeout -d 'Close a connection whose client has read nothing of a response (or event stream) for this long; a slow client that keeps reading is never cut off' -r
complete -c imx -n "__fish_imx_using_subcommand server" -l stream-lifetime -d 'End each event stream (/api/v1/events/stream) after this long; clients resume where they left off (Last-Event-ID) [default: streams last as long as their clients]' -r
complete -c imx -n "__fish_imx_using_subcommand server" -l long-poll -d 'The longest an agent\'s claim or an events long poll (wait_ms) is held, at most 30s (lower it below a proxy\'s timeout)' -r
complete -c imx -n "__fish_imx_using_subcommand server" -l log-format -d 'Request log format: one line per request (method, route, status, latency, principal)' -r -f -a "text\t'Human-readable lines'
json\t'One JSON object per line'"
complete -c imx -n "__fish_imx_using_subcommand server" -l log-dir -d 'Write the request log to daily rolling files DIR/imx-server.log.YYYY-MM-DD instead of stderr' -r -F
complete -c imx -n "__fish_imx_using_subcommand server" -l backup-every -d 'Take a backup this often (e.g. 15m, 1h), timed from the newest backup in the folder so restarts do not reset the clock; each is audited as `backup.create` by `server:backup`' -r
complete -c imx -n "__fish_imx_using_subcommand server" -l backup-dir -d 'The server\'s backup folder: scheduled backups and `imx --server URL backup create` go here, and remote `backup list|show|verify|download` look here [default: backups/ beside the store]' -r -F
complete -c imx -n "__fish_imx_using_subcommand server" -l max-token-ttl -d 'The longest a token may live (default 90d, or IMX_MAX_TOKEN_TTL): longer lifetimes are refused, tokens made without one get this, `imx login` tokens live 30d or this' -r
complete -c imx -n "__fish_imx_using_subcommand server" -l default-run-timeout -d 'The run timeout of runs started through this server whose workflow sets no `timeout:` (and that are started without --timeout) [default: the store\'s default, set with `imx init --default-run-timeout`, else 24h]' -r
complete -c imx -n "__fish_imx_using_subcommand server" -l keep-last -d 'Keep the newest N backups of the backup folder' -r
complete -c imx -n "__fish_imx_using_subcommand server" -l keep-hourly -d 'Keep one backup for each of the last N hours' -r
complete -c imx -n "__fish_imx_using_subcommand server" -l keep-daily -d 'Keep one backup for each of the last N days' -r
complete -c imx -n "__fish_imx_using_subcommand server" -l keep-weekly -d 'Keep one backup for each of the last N weeks' -r
complete -c imx -n "__fish_imx_using_subcommand server" -l keep-monthly -d 'Keep one backup for each of the last N months' -r
complete -c imx -n "__fish_imx_using_subcommand server" -l keep-yearly -d 'Keep one backup for each of the last N years' -r
complete -c imx -n "__fish_imx_using_subcommand server" -l store -d 'The local store (a SQLite file) [default: ~/.local/share/imx/imx.db]' -r -F
complete -c imx -n "__fish_imx_using_subcommand server" -l server -d 'A remote control plane: an `imx server` URL (token from IMX_TOKEN or `imx login`)' -r
complete -c imx -n "__fish_imx_using_subcommand server" -l context -d 'Use a named context (see `imx context list`) instead of the current one' -r
complete -c imx -n "__fish_imx_using_subcommand server" -s o -l output -d 'Output format for data on stdout; `template=TEXT` picks fields (see `imx help output`)' -r -f -a "table\t'Aligned columns for people (short ids, relative times)'
wide\t'The table with more columns (full ids, labels, ...)'
json\t'JSON: the model objects (times RFC 3339, durations in `*_ms`); lists are arrays, streams of records (run logs, audit tail) one object per line'
yaml\t'YAML: the same data as JSON'
csv\t'CSV: a header and the table\'s columns (full ids, RFC 3339 times)'
name\t'Bare ids or names, one per line'
template=\t'TEXT: a Jinja template per record, e.g. template=\'{{ id }} {{ status }}\''"
complete -c imx -n "__fish_imx_using_subcommand server" -l insecure-listen -d 'Allow plain HTTP on a non-loopback address (behind a TLS-terminating proxy)'
complete -c imx -n "__fish_imx_using_subcommand server" -l insecure -d 'Allow a plain http:// server that is not on this machine: tokens and passwords cross the network in clear (a warning each time). Loopback needs no flag'
complete -c imx -n "__fish_imx_using_subcommand server" -s q -l quiet -d 'Print only data and errors: no status lines, hints or progress'
complete -c imx -n "__fish_imx_using_subcommand server" -s v -l verbose -d 'Say more (repeat for even more)'
complete -c imx -n "__fish_imx_using_subcommand server" -l no-color -d 'No colour (also when NO_COLOR is set or output is not a terminal)'
complete -c imx -n "__fish_imx_using_subcommand server" -s y -l yes -d 'Answer yes to confirmation prompts (needed for destructive commands in scripts)'
complete -c imx -n "__fish_imx_using_subcommand server" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c imx -n "__fish_imx_using_subcommand dashboard" -l view -d 'The view to open on' -r -f -a "overview\t''
agents\t''
runs\t''
workflows\t''
audit\t''"
complete -c imx -n "__fish_imx_using_subcommand dashboard" -l store -d 'The local store (a SQLite file) [default: ~/.local/share/imx/imx.db]' -r -F
complete -c imx -n "__fish_imx_using_subcommand dashboard" -l server -d 'A remote control plane: an `imx server` URL (token from IMX_TOKEN or `imx login`)' -r
complete -c imx -n "__fish_imx_using_subcommand dashboard" -l context -d 'Use a named context (see `imx context list`) instead of the current one' -r
complete -c imx -n "__fish_imx_using_subcommand dashboard" -s o -l output -d 'Output format for data on stdout; `template=TEXT` picks fields (see `imx help output`)' -r -f -a "table\t'Aligned columns for people (short ids, relative times)'
wide\t'The table with more columns (full ids, labels, ...)'
json\t'JSON: the model objects (times RFC 3339, durations in `*_ms`); lists are arrays, streams of records (run logs, audit tail) one object per line'
yaml\t'YAML: the same data as JSON'
csv\t'CSV: a header and the table\'s columns (full ids, RFC 3339 times)'
name\t'Bare ids or names, one per line'
template=\t'TEXT: a Jinja template per record, e.g. template=\'{{ id }} {{ status }}\''"
complete -c imx -n "__fish_imx_using_subcommand dashboard" -l no-mouse -d 'Do not capture the mouse (keeps the terminal\'s own text selection)'
complete -c imx -n "__fish_imx_using_subcommand dashboard" -l insecure -d 'Allow a plain http:// server that is not on this machine: tokens and passwords cross the network in clear (a warning each time). Loopback needs no flag'
complete -c imx -n "__fish_imx_using_subcommand dashboard" -s q -l quiet -d 'Print only data and errors: no status lines, hints or progress'
complete -c imx -n "__fish_imx_using_subcommand dashboard" -s v -l verbose -d 'Say more (repeat for even more)'
complete -c imx -n "__fish_imx_using_subcommand dashboard" -l no-color -d 'No colour (also when NO_COLOR is set or output is not a terminal)'
complete -c imx -n "__fish_imx_using_subcommand dashboard" -s y -l yes -d 'Answer yes to confirmation prompts (needed for destructive commands in scripts)'
complete -c imx -n "__fish_imx_using_subcommand dashboard" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c imx -n "__fish_imx_using_subcommand backup; and not __fish_seen_subcommand_from create list show verify download restore prune keygen" -l store -d 'The local store (a SQLite file) [default: ~/.local/share/imx/imx.db]' -r -F
complete -c imx -n "__fish_imx_using_subcommand backup; and not __fish_seen_subcommand_from create list show verify download restore prune keygen" -l server -d 'A remote control plane: an `imx server` URL (token from IMX_TOKEN or `imx login`)' -r
complete -c imx -n "__fish_imx_using_subcommand backup; and not __fish_seen_subcommand_from create list show verify download restore prune keygen" -l context -d 'Use a named context (see `imx context list`) instead of the current one' -r
complete -c imx -n "__fish_imx_using_subcommand backup; and not __fish_seen_subcommand_from create list show verify download restore prune keygen" -s o -l output -d 'Output format for data on stdout; `template=TEXT` picks fields (see `imx help output`)' -r -f -a "table\t'Aligned columns for people (short ids, relative times)'
wide\t'The table with more columns (full ids, labels, ...)'
json\t'JSON: the model objects (times RFC 3339, durations in `*_ms`); lists are arrays, streams of records (run logs, audit tail) one object per line'
yaml\t'YAML: the same data as JSON'
csv\t'CSV: a header and the table\'s columns (full ids, RFC 3339 times)'
name\t'Bare ids or names, one per line'
template=\t'TEXT: a Jinja template per record, e.g. template=\'{{ id }} {{ status }}\''"
complete -c imx -n "__fish_imx_using_subcommand backup; and not __fish_seen_subcommand_from create list show verify download restore prune keygen" -l insecure -d 'Allow a plain http:// server that is not on this machine: tokens and passwords cross the network in clear (a warning each time). Loopback needs no flag'
complete -c imx -n "__fish_imx_using_subcommand backup; and not __fish_seen_subcommand_from create list show verify download restore prune keygen" -s q -l quiet -d 'Print only data and errors: no status lines, hints or progress'
complete -c imx -n "__fish_imx_using_subcommand backup; and not __fish_seen_subcommand_from create list show verify download restore prune keygen" -s v -l verbose -d 'Say more (repeat for even more)'
complete -c imx -n "__fish_imx_using_subcommand backup; and not __fish_seen_subcommand_from create list show verify download restore prune keygen" -l no-color -d 'No colour (also when NO_COLOR is set or output is not a terminal)'
complete -c imx -n "__fish_imx_using_subcommand backup; and not __fish_seen_subcommand_from create list show verify download restore prune keygen" -s y -l yes -d 'Answer yes to confirmation prompts (needed for destructive commands in scripts)'
complete -c imx -n "__fish_imx_using_subcommand backup; and not __fish_seen_subcommand_from create list show verify download restore prune keygen" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c imx -n "__fish_imx_using_subcommand backup; and not __fish_seen_subcommand_from create list show verify download restore prune keygen" -f -a "create" -d 'Take a consistent backup of the store (while agents keep working)'
complete -c imx -n "__fish_imx_using_subcommand backup; and not __fish_seen_subcommand_from create list show verify download restore prune keygen" -f -a "list" -d 'List backups, newest first'
complete -c imx -n "__fish_imx_using_subcommand backup; and not __fish_seen_subcommand_from create list show verify download restore prune keygen" -f -a "show" -d 'Show a backup\'s manifest: counts per table, schema version, checksum, encryption'
complete -c imx -n "__fish_imx_using_subcommand backup; and not __fish_seen_subcommand_from create list show verify download restore prune keygen" -f -a "verify" -d 'Prove a backup restores: checksum, decrypt, decompress, integrity, audit chain, counts'
complete -c imx -n "__fish_imx_using_subcommand backup; and not __fish_seen_subcommand_from create list show verify download restore prune keygen" -f -a "download" -d 'Download a backup from a server and check its SHA-256'
complete -c imx -n "__fish_imx_using_subcommand backup; and not __fish_seen_subcommand_from create list show verify download restore prune keygen" -f -a "restore" -d 'Replace the store (or restore elsewhere) with a backup, atomically (on the store\'s machine)'
complete -c imx -n "__fish_imx_using_subcommand backup; and not __fish_seen_subcommand_from create list show verify download restore prune keygen" -f -a "prune" -d 'Remove backups a retention policy does not keep (on the store\'s machine)'
complete -c imx -n "__fish_imx_using_subcommand backup; and not __fish_seen_subcommand_from create list show verify download restore prune keygen" -f -a "keygen" -d 'Make a new random key for encrypted backups: a 0600 key file, the OS keyring, or both'
complete -c imx -n "__fish_imx_using_subcommand backup; and __fish_seen_subcommand_from create" -l out -d 'A folder (existing, or ending in /) or a file to write [default: backups/ beside the store]' -r -F
complete -c imx -n "__fish_imx_using_subcommand backup; and __fish_seen_subcommand_from create" -l key-file -d 'Key file (64 hex digits; make one with `imx backup keygen --out FILE`)' -r -F
complete -c imx -n "__fish_imx_using_subcommand backup; and __fish_seen_subcommand_from create" -l keyring -d 'Take the key from the OS keyring entry NAME [default: default] (make one with `imx backup keygen --keyring`)' -r
complete -c imx -n "__fish_imx_using_subcommand backup; and __fish_seen_subcommand_from create" -l note -d 'A note stored in the manifest (e.g. why the backup was taken)' -r
complete -c imx -n "__fish_imx_using_subcommand backup; and __fish_seen_subcommand_from create" -l format -d 'sqlite: page snapshot (fast). logical: JSONL of every table (portable)' -r -f -a "sqlite\t''
logical\t''"
complete -c imx -n "__fish_imx_using_subcommand backup; and __fish_seen_subcommand_from create" -l level -d 'zstd compression level (1 fast .. 19 small)' -r
complete -c imx -n "__fish_imx_using_subcommand backup; and __fish_seen_subcommand_from create" -l store -d 'The local store (a SQLite file) [default: ~/.local/share/imx/imx.db]' -r -F
complete -c imx -n "__fish_imx_using_subcommand backup; and __fish_seen_subcommand_from create" -l server -d 'A remote control plane: an `imx server` URL (token from IMX_TOKEN or `imx login`)' -r
complete -c imx -n "__fish_imx_using_subcommand backup; and __fish_seen_subcommand_from create" -l context -d 'Use a named context (see `imx context list`) instead of the current one' -r
complete -c imx -n "__fish_imx_using_subcommand backup; and __fish_seen_subcommand_from create" -s o -l output -d 'Output format for data on stdout; `template=TEXT` picks fields (see `imx help output`)' -r -f -a "table\t'Aligned columns for people (short ids, relative times)'
wide\t'The table with more columns (full ids, labels, ...)'
json\t'JSON: the model objects (times RFC 3339, durations in `*_ms`); lists are arrays, streams of records (run logs, audit tail) one object per line'
yaml\t'YAML: the same data as JSON'
csv\t'CSV: a header and the table\'s columns (full ids, RFC 3339 times)'
name\t'Bare ids or names, one per line'
template=\t'TEXT: a Jinja template per record, e.g. template=\'{{ id }} {{ status }}\''"
complete -c imx -n "__fish_imx_using_subcommand backup; and __fish_seen_subcommand_from create" -l encrypt -d 'Encrypt the backup (needs --key-file, --keyring or --passphrase-stdin)'
complete -c imx -n "__fish_imx_using_subcommand backup; and __fish_seen_subcommand_from create" -l passphrase-stdin -d 'Read the passphrase from the first line of standard input'
complete -c imx -n "__fish_imx_using_subcommand backup; and __fish_seen_subcommand_from create" -l insecure -d 'Allow a plain http:// server that is not on this machine: tokens and passwords cross the network in clear (a warning each time). Loopback needs no flag'
complete -c imx -n "__fish_imx_using_subcommand backup; and __fish_seen_subcommand_from create" -s q -l quiet -d 'Print only data and errors: no status lines, hints or progress'
complete -c imx -n "__fish_imx_using_subcommand backup; and __fish_seen_subcommand_from create" -s v -l verbose -d 'Say more (repeat for even more)'
complete -c imx -n "__fish_imx_using_subcommand backup; and __fish_seen_subcommand_from create" -l no-color -d 'No colour (also when NO_COLOR is set or output is not a terminal)'
complete -c imx -n "__fish_imx_using_subcommand backup; and __fish_seen_subcommand_from create" -s y -l yes -d 'Answer yes to confirmation prompts (needed for destructive commands in scripts)'
complete -c imx -n "__fish_imx_using_subcommand backup; and __fish_seen_subcommand_from create" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c imx -n "__fish_imx_using_subcommand backup; and __fish_seen_subcommand_from list" -l dir -d 'The backup folder [default: backups/ beside the store]' -r -F
complete -c imx -n "__fish_imx_using_subcommand backup; and __fish_seen_subcommand_from list" -l store -d 'The local store (a SQLite file) [default: ~/.local/share/imx/imx.db]' -r -F
complete -c imx -n "__fish_imx_using_subcommand backup; and __fish_seen_subcommand_from list" -l server -d 'A remote control plane: an `imx server` URL (token from IMX_TOKEN or `imx login`)' -r
complete -c imx -n "__fish_imx_using_subcommand backup; and __fish_seen_subcommand_from list" -l context -d 'Use a named context (see `imx context list`) instead of the current one' -r
complete -c imx -n "__fish_imx_using_subcommand backup; and __fish_seen_subcommand_from list" -s o -l output -d 'Output format for data on stdout; `template=TEXT` picks fields (see `imx help output`)' -r -f -a "table\t'Aligned columns for people (short ids, relative times)'
wide\t'The table with more columns (full ids, labels, ...)'
json\t'JSON: the model objects (times RFC 3339, durations in `*_ms`); lists are arrays, streams of records (run logs, audit tail) one object per line'
yaml\t'YAML: the same data as JSON'
csv\t'CSV: a header and the table\'s columns (full ids, RFC 3339 times)'
name\t'Bare ids or names, one per line'
template=\t'TEXT: a Jinja template per record, e.g. template=\'{{ id }} {{ status }}\''"
complete -c imx -n "__fish_imx_using_subcommand backup; and __fish_seen_subcommand_from list" -l insecure -d 'Allow a plain http:// server that is not on this machine: tokens and passwords cross the network in clear (a warning each time). Loopback needs no flag'
complete -c imx -n "__fish_imx_using_subcommand backup; and __fish_seen_subcommand_from list" -s q -l quiet -d 'Print only data and errors: no status lines, hints or progress'
complete -c imx -n "__fish_imx_using_subcommand backup; and __fish_seen_subcommand_from list" -s v -l verbose -d 'Say more (repeat for even more)'
complete -c imx -n "__fish_imx_using_subcommand backup; and __fish_seen_subcommand_from list" -l no-color -d 'No colour (also when NO_COLOR is set or output is not a terminal)'
complete -c imx -n "__fish_imx_using_subcommand backup; and __fish_seen_subcommand_from list" -s y -l yes -d 'Answer yes to confirmation prompts (needed for destructive commands in scripts)'
complete -c imx -n "__fish_imx_using_subcommand backup; and __fish_seen_subcommand_from list" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c imx -n "__fish_imx_using_subcommand backup; and __fish_seen_subcommand_from show" -l dir -d 'The backup folder ids are looked up in [default: backups/ beside the store]' -r -F
complete -c imx -n "__fish_imx_using_subcommand backup; and __fish_seen_subcommand_from show" -l store -d 'The local store (a SQLite file) [default: ~/.local/share/imx/imx.db]' -r -F
complete -c imx -n "__fish_imx_using_subcommand backup; and __fish_seen_subcommand_from show" -l server -d 'A remote control plane: an `imx server` URL (token from IMX_TOKEN or `imx login`)' -r
complete -c imx -n "__fish_imx_using_subcommand backup; and __fish_seen_subcommand_from show" -l context -d 'Use a named context (see `imx context list`) instead of the current one' -r
complete -c imx -n "__fish_imx_using_subcommand backup; and __fish_seen_subcommand_from show" -s o -l output -d 'Output format for data on stdout; `template=TEXT` picks fields (see `imx help output`)' -r -f -a "table\t'Aligned columns for people (short ids, relative times)'
wide\t'The table with more columns (full ids, labels, ...)'
json\t'JSON: the model objects (times RFC 3339, durations in `*_ms`); lists are arrays, streams of records (run logs, audit tail) one object per line'
yaml\t'YAML: the same data as JSON'
csv\t'CSV: a header and the table\'s columns (full ids, RFC 3339 times)'
name\t'Bare ids or names, one per line'
template=\t'TEXT: a Jinja template per record, e.g. template=\'{{ id }} {{ status }}\''"
complete -c imx -n "__fish_imx_using_subcommand backup; and __fish_seen_subcommand_from show" -l insecure -d 'Allow a plain http:// server that is not on this machine: tokens and passwords cross the network in clear (a warning each time). Loopback needs no flag'
complete -c imx -n "__fish_imx_using_subcommand backup; and __fish_seen_subcommand_from show" -s q -l quiet -d 'Print only data and errors: no status lines, hints or progress'
complete -c imx -n "__fish_imx_using_subcommand backup; and __fish_seen_subcommand_from show" -s v -l verbose -d 'Say more (repeat for even more)'
complete -c imx -n "__fish_imx_using_subcommand backup; and __fish_seen_subcommand_from show" -l no-color -d 'No colour (also when NO_COLOR is set or output is not a terminal)'
complete -c imx -n "__fish_imx_using_subcommand backup; and __fish_seen_subcommand_from show" -s y -l yes -d 'Answer yes to confirmation prompts (needed for destructive commands in scripts)'
complete -c imx -n "__fish_imx_using_subcommand backup; and __fish_seen_subcommand_from show" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c imx -n "__fish_imx_using_subcommand backup; and __fish_seen_subcommand_from verify" -l dir -d 'The backup folder ids are looked up in [default: backups/ beside the store]' -r -F
complete -c imx -n "__fish_imx_using_subcommand backup; and __fish_seen_subcommand_from verify" -l key-file -d 'Key file (64 hex digits; make one with `imx backup keygen --out FILE`)' -r -F
complete -c imx -n "__fish_imx_using_subcommand backup; and __fish_seen_subcommand_from verify" -l keyring -d 'Take the key from the OS keyring entry NAME [default: default] (make one with `imx backup keygen --keyring`)' -r
complete -c imx -n "__fish_imx_using_subcommand backup; and __fish_seen_subcommand_from verify" -l store -d 'The local store (a SQLite file) [default: ~/.local/share/imx/imx.db]' -r -F
complete -c imx -n "__fish_imx_using_subcommand backup; and __fish_seen_subcommand_from verify" -l server -d 'A remote control plane: an `imx server` URL (token from IMX_TOKEN or `imx login`)' -r
complete -c imx -n "__fish_imx_using_subcommand backup; and __fish_seen_subcommand_from verify" -l context -d 'Use a named context (see `imx context list`) instead of the current one' -r
complete -c imx -n "__fish_imx_using_subcommand backup; and __fish_seen_subcommand_from verify" -s o -l output -d 'Output format for data on stdout; `template=TEXT` picks fields (see `imx help output`)' -r -f -a "table\t'Aligned columns for people (short ids, relative times)'
wide\t'The table with more columns (full ids, labels, ...)'
json\t'JSON: the model objects (times RFC 3339, durations in `*_ms`); lists are arrays, streams of records (run logs, audit tail) one object per line'
yaml\t'YAML: the same data as JSON'
csv\t'CSV: a header and the table\'s columns (full ids, RFC 3339 times)'
name\t'Bare ids or names, one per line'
template=\t'TEXT: a Jinja template per record, e.g. template=\'{{ id }} {{ status }}\''"
complete -c imx -n "__fish_imx_using_subcommand backup; and __fish_seen_subcommand_from verify" -l passphrase-stdin -d 'Read the passphrase from the first line of standard input'
complete -c imx -n "__fish_imx_using_subcommand backup; and __fish_seen_subcommand_from verify" -l full-integrity -d 'Run SQLite\'s full integrity_check (also every index entry against its table; about twice the time) instead of quick_check'
complete -c imx -n "__fish_imx_using_subcommand backup; and __fish_seen_subcommand_from verify" -l insecure -d 'Allow a plain http:// server that is not on this machine: tokens and passwords cross the network in clear (a warning each time). Loopback needs no flag'
complete -c imx -n "__fish_imx_using_subcommand backup; and __fish_seen_subcommand_from verify" -s q -l quiet -d 'Print only data and errors: no status lines, hints or progress'
complete -c imx -n "__fish_imx_using_subcommand backup; and __fish_seen_subcommand_from verify" -s v -l verbose -d 'Say more (repeat for even more)'
complete -c imx -n "__fish_imx_using_subcommand backup; and __fish_seen_subcommand_from verify" -l no-color -d 'No colour (also when NO_COLOR is set or output is not a terminal)'
complete -c imx -n "__fish_imx_using_subcommand backup; and __fish_seen_subcommand_from verify" -s y -l yes -d 'Answer yes to confirmation prompts (needed for destructive commands in scripts)'
complete -c imx -n "__fish_imx_using_subcommand backup; and __fish_seen_subcommand_from verify" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c imx -n "__fish_imx_using_subcommand backup; and __fish_seen_subcommand_from download" -l out -d 'A file, or an existing folder (or one ending in /) to put imx-backup-ID.imxb in [default: imx-backup-ID.imxb in the current folder]' -r -F
complete -c imx -n "__fish_imx_using_subcommand backup; and __fish_seen_subcommand_from download" -l store -d 'The local store (a SQLite file) [default: ~/.local/share/imx/imx.db]' -r -F
complete -c imx -n "__fish_imx_using_subcommand backup; and __fish_seen_subcommand_from download" -l server -d 'A remote control plane: an `imx server` URL (token from IMX_TOKEN or `imx login`)' -r
complete -c imx -n "__fish_imx_using_subcommand backup; and __fish_seen_subcommand_from download" -l context -d 'Use a named context (see `imx context list`) instead of the current one' -r
complete -c imx -n "__fish_imx_using_subcommand backup; and __fish_seen_subcommand_from download" -s o -l output -d 'Output format for data on stdout; `template=TEXT` picks fields (see `imx help output`)' -r -f -a "table\t'Aligned columns for people (short ids, relative times)'
wide\t'The table with more columns (full ids, labels, ...)'
json\t'JSON: the model objects (times RFC 3339, durations in `*_ms`); lists are arrays, streams of records (run logs, audit tail) one object per line'
yaml\t'YAML: the same data as JSON'
csv\t'CSV: a header and the table\'s columns (full ids, RFC 3339 times)'
name\t'Bare ids or names, one per line'
template=\t'TEXT: a Jinja template per record, e.g. template=\'{{ id }} {{ status }}\''"
complete -c imx -n "__fish_imx_using_subcommand backup; and __fish_seen_subcommand_from download" -l insecure -d 'Allow a plain http:// server that is not on this machine: tokens and passwords cross the network in clear (a warning each time). Loopback needs no flag'
complete -c imx -n "__fish_imx_using_subcommand backup; and __fish_seen_subcommand_from download" -s q -l quiet -d 'Print only data and errors: no status lines, hints or progress'
complete -c imx -n "__fish_imx_using_subcommand backup; and __fish_seen_subcommand_from download" -s v -l verbose -d 'Say more (repeat for even more)'
complete -c imx -n "__fish_imx_using_subcommand backup; and __fish_seen_subcommand_from download" -l no-color -d 'No colour (also when NO_COLOR is set or output is not a terminal)'
complete -c imx -n "__fish_imx_using_subcommand backup; and __fish_seen_subcommand_from download" -s y -l yes -d 'Answer yes to confirmation prompts (needed for destructive commands in scripts)'
complete -c imx -n "__fish_imx_using_subcommand backup; and __fish_seen_subcommand_from download" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c imx -n "__fish_imx_using_subcommand backup; and __fish_seen_subcommand_from restore" -l to -d 'Restore into this store file instead of the current store' -r -F
complete -c imx -n "__fish_imx_using_subcommand backup; and __fish_seen_subcommand_from restore" -l dir -d 'The backup folder ids are looked up in [default: backups/ beside the store]' -r -F
complete -c imx -n "__fish_imx_using_subcommand backup; and __fish_seen_subcommand_from restore" -l key-file -d 'Key file (64 hex digits; make one with `imx backup keygen --out FILE`)' -r -F
complete -c imx -n "__fish_imx_using_subcommand backup; and __fish_seen_subcommand_from restore" -l keyring -d 'Take the key from the OS keyring entry NAME [default: default] (make one with `imx backup keygen --keyring`)' -r
complete -c imx -n "__fish_imx_using_subcommand backup; and __fish_seen_subcommand_from restore" -l store -d 'The local store (a SQLite file) [default: ~/.local/share/imx/imx.db]' -r -F
complete -c imx -n "__fish_imx_using_subcommand backup; and __fish_seen_subcommand_from restore" -l server -d 'A remote control plane: an `imx server` URL (token from IMX_TOKEN or `imx login`)' -r
complete -c imx -n "__fish_imx_using_subcommand backup; and __fish_seen_subcommand_from restore" -l context -d 'Use a named context (see `imx context list`) instead of the current one' -r
complete -c imx -n "__fish_imx_using_subcommand backup; and __fish_seen_subcommand_from restore" -s o -l output -d 'Output format for data on stdout; `template=TEXT` picks fields (see `imx help output`)' -r -f -a "table\t'Aligned columns for people (short ids, relative times)'
wide\t'The table with more columns (full ids, labels, ...)'
json\t'JSON: the model objects (times RFC 3339, durations in `*_ms`); lists are arrays, streams of records (run logs, audit tail) one object per line'
yaml\t'YAML: the same data as JSON'
csv\t'CSV: a header and the table\'s columns (full ids, RFC 3339 times)'
name\t'Bare ids or names, one per line'
template=\t'TEXT: a Jinja template per record, e.g. template=\'{{ id }} {{ status }}\''"
complete -c imx -n "__fish_imx_using_subcommand backup; and __fish_seen_subcommand_from restore" -l force -d 'Replace a store that holds data or that another process has open'
complete -c imx -n "__fish_imx_using_subcommand backup; and __fish_seen_subcommand_from restore" -l passphrase-stdin -d 'Read the passphrase from the first line of standard input'
complete -c imx -n "__fish_imx_using_subcommand backup; and __fish_seen_subcommand_from restore" -l full-integrity -d 'Check the restored store with SQLite\'s full integrity_check instead of quick_check'
complete -c imx -n "__fish_imx_using_subcommand backup; and __fish_seen_subcommand_from restore" -l insecure -d 'Allow a plain http:// server that is not on this machine: tokens and passwords cross the network in clear (a warning each time). Loopback needs no flag'
complete -c imx -n "__fish_imx_using_subcommand backup; and __fish_seen_subcommand_from restore" -s q -l quiet -d 'Print only data and errors: no status lines, hints or progress'
complete -c imx -n "__fish_imx_using_subcommand backup; and __fish_seen_subcommand_from restore" -s v -l verbose -d 'Say more (repeat for even more)'
complete -c imx -n "__fish_imx_using_subcommand backup; and __fish_seen_subcommand_from restore" -l no-color -d 'No colour (also when NO_COLOR is set or output is not a terminal)'
complete -c imx -n "__fish_imx_using_subcommand backup; and __fish_seen_subcommand_from restore" -s y -l yes -d 'Answer yes to confirmation prompts (needed for destructive commands in scripts)'
complete -c imx -n "__fish_imx_using_subcommand backup; and __fish_seen_subcommand_from restore" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c imx -n "__fish_imx_using_subcommand backup; and __fish_seen_subcommand_from prune" -l keep-last -r
complete -c imx -n "__fish_imx_using_subcommand backup; and __fish_seen_subcommand_from prune" -l keep-hourly -r
complete -c imx -n "__fish_imx_using_subcommand backup; and __fish_seen_subcommand_from prune" -l keep-daily -r
complete -c imx -n "__fish_imx_using_subcommand backup; and __fish_seen_subcommand_from prune" -l keep-weekly -r
complete -c imx -n "__fish_imx_using_subcommand backup; and __fish_seen_subcommand_from prune" -l keep-monthly -r
complete -c imx -n "__fish_imx_using_subcommand backup; and __fish_seen_subcommand_from prune" -l keep-yearly -r
complete -c imx -n "__fish_imx_using_subcommand backup; and __fish_seen_subcommand_from prune" -l dir -d 'The backup folder [default: backups/ beside the store]' -r -F
complete -c imx -n "__fish_imx_using_subcommand backup; and __fish_seen_subcommand_from prune" -l store -d 'The local store (a SQLite file) [default: ~/.local/share/imx/imx.db]' -r -F
complete -c imx -n "__fish_imx_using_subcommand backup; and __fish_seen_subcommand_from prune" -l server -d 'A remote control plane: an `imx server` URL (token from IMX_TOKEN or `imx login`)' -r
complete -c imx -n "__fish_imx_using_subcommand backup; and __fish_seen_subcommand_from prune" -l context -d 'Use a named context (see `imx context list`) instead of the current one' -r
complete -c imx -n "__fish_imx_using_subcommand backup; and __fish_seen_subcommand_from prune" -s o -l output -d 'Output format for data on stdout; `template=TEXT` picks fields (see `imx help output`)' -r -f -a "table\t'Aligned columns for people (short ids, relative times)'
wide\t'The table with more columns (full ids, labels, ...)'
json\t'JSON: the model objects (times RFC 3339, durations in `*_ms`); lists are arrays, streams of records (run logs, audit tail) one object per line'
yaml\t'YAML: the same data as JSON'
csv\t'CSV: a header and the table\'s columns (full ids, RFC 3339 times)'
name\t'Bare ids or names, one per line'
template=\t'TEXT: a Jinja template per record, e.g. template=\'{{ id }} {{ status }}\''"
complete -c imx -n "__fish_imx_using_subcommand backup; and __fish_seen_subcommand_from prune" -l dry-run -d 'Show what would be removed; remove nothing'
complete -c imx -n "__fish_imx_using_subcommand backup; and __fish_seen_subcommand_from prune" -l insecure -d 'Allow a plain http:// server that is not on this machine: tokens and passwords cross the network in clear (a warning each time). Loopback needs no flag'
complete -c imx -n "__fish_imx_using_subcommand backup; and __fish_seen_subcommand_from prune" -s q -l quiet -d 'Print only data and errors: no status lines, hints or progress'
complete -c imx -n "__fish_imx_using_subcommand backup; and __fish_seen_subcommand_from prune" -s v -l verbose -d 'Say more (repeat for even more)'
complete -c imx -n "__fish_imx_using_subcommand backup; and __fish_seen_subcommand_from prune" -l no-color -d 'No colour (also when NO_COLOR is set or output is not a terminal)'
complete -c imx -n "__fish_imx_using_subcommand backup; and __fish_seen_subcommand_from prune" -s y -l yes -d 'Answer yes to confirmation prompts (needed for destructive commands in scripts)'
complete -c imx -n "__fish_imx_using_subcommand backup; and __fish_seen_subcommand_from prune" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c imx -n "__fish_imx_using_subcommand backup; and __fish_seen_subcommand_from keygen" -l out -d 'Write the key to this file (refuses to overwrite)' -r -F
complete -c imx -n "__fish_imx_using_subcommand backup; and __fish_seen_subcommand_from keygen" -l keyring -d 'Keep the key in the OS keyring entry NAME [default: default] (refuses to replace one)' -r
complete -c imx -n "__fish_imx_using_subcommand backup; and __fish_seen_subcommand_from keygen" -l store -d 'The local store (a SQLite file) [default: ~/.local/share/imx/imx.db]' -r -F
complete -c imx -n "__fish_imx_using_subcommand backup; and __fish_seen_subcommand_from keygen" -l server -d 'A remote control plane: an `imx server` URL (token from IMX_TOKEN or `imx login`)' -r
complete -c imx -n "__fish_imx_using_subcommand backup; and __fish_seen_subcommand_from keygen" -l context -d 'Use a named context (see `imx context list`) instead of the current one' -r
complete -c imx -n "__fish_imx_using_subcommand backup; and __fish_seen_subcommand_from keygen" -s o -l output -d 'Output format for data on stdout; `template=TEXT` picks fields (see `imx help output`)' -r -f -a "table\t'Aligned columns for people (short ids, relative times)'
wide\t'The table with more columns (full ids, labels, ...)'
json\t'JSON: the model objects (times RFC 3339, durations in `*_ms`); lists are arrays, streams of records (run logs, audit tail) one object per line'
yaml\t'YAML: the same data as JSON'
csv\t'CSV: a header and the table\'s columns (full ids, RFC 3339 times)'
name\t'Bare ids or names, one per line'
template=\t'TEXT: a Jinja template per record, e.g. template=\'{{ id }} {{ status }}\''"
complete -c imx -n "__fish_imx_using_subcommand backup; and __fish_seen_subcommand_from keygen" -l insecure -d 'Allow a plain http:// server that is not on this machine: tokens and passwords cross the network in clear (a warning each time). Loopback needs no flag'
complete -c imx -n "__fish_imx_using_subcommand backup; and __fish_seen_subcommand_from keygen" -s q -l quiet -d 'Print only data and errors: no status lines, hints or progress'
complete -c imx -n "__fish_imx_using_subcommand backup; and __fish_seen_subcommand_from keygen" -s v -l verbose -d 'Say more (repeat for even more)'
complete -c imx -n "__fish_imx_using_subcommand backup; and __fish_seen_subcommand_from keygen" -l no-color -d 'No colour (also when NO_COLOR is set or output is not a terminal)'
complete -c imx -n "__fish_imx_using_subcommand backup; and __fish_seen_subcommand_from keygen" -s y -l yes -d 'Answer yes to confirmation prompts (needed for destructive commands in scripts)'
complete -c imx -n "__fish_imx_using_subcommand backup; and __fish_seen_subcommand_from keygen" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c imx -n "__fish_imx_using_subcommand audit; and not __fish_seen_subcommand_from list show tail verify checkpoint report export prune" -l store -d 'The local store (a SQLite file) [default: ~/.local/share/imx/imx.db]' -r -F
complete -c imx -n "__fish_imx_using_subcommand audit; and not __fish_seen_subcommand_from list show tail verify checkpoint report export prune" -l server -d 'A remote control plane: an `imx server` URL (token from IMX_TOKEN or `imx login`)' -r
complete -c imx -n "__fish_imx_using_subcommand audit; and not __fish_seen_subcommand_from list show tail verify checkpoint report export prune" -l context -d 'Use a named context (see `imx context list`) instead of the current one' -r
complete -c imx -n "__fish_imx_using_subcommand audit; and not __fish_seen_subcommand_from list show tail verify checkpoint report export prune" -s o -l output -d 'Output format for data on stdout; `template=TEXT` picks fields (see `imx help output`)' -r -f -a "table\t'Aligned columns for people (short ids, relative times)'
wide\t'The table with more columns (full ids, labels, ...)'
json\t'JSON: the model objects (times RFC 3339, durations in `*_ms`); lists are arrays, streams of records (run logs, audit tail) one object per line'
yaml\t'YAML: the same data as JSON'
csv\t'CSV: a header and the table\'s columns (full ids, RFC 3339 times)'
name\t'Bare ids or names, one per line'
template=\t'TEXT: a Jinja template per record, e.g. template=\'{{ id }} {{ status }}\''"
complete -c imx -n "__fish_imx_using_subcommand audit; and not __fish_seen_subcommand_from list show tail verify checkpoint report export prune" -l insecure -d 'Allow a plain http:// server that is not on this machine: tokens and passwords cross the network in clear (a warning each time). Loopback needs no flag'
complete -c imx -n "__fish_imx_using_subcommand audit; and not __fish_seen_subcommand_from list show tail verify checkpoint report export prune" -s q -l quiet -d 'Print only data and errors: no status lines, hints or progress'
complete -c imx -n "__fish_imx_using_subcommand audit; and not __fish_seen_subcommand_from list show tail verify checkpoint report export prune" -s v -l verbose -d 'Say more (repeat for even more)'
complete -c imx -n "__fish_imx_using_subcommand audit; and not __fish_seen_subcommand_from list show tail verify checkpoint report export prune" -l no-color -d 'No colour (also when NO_COLOR is set or output is not a terminal)'
complete -c imx -n "__fish_imx_using_subcommand audit; and not __fish_seen_subcommand_from list show tail verify checkpoint report export prune" -s y -l yes -d 'Answer yes to confirmation prompts (needed for destructive commands in scripts)'
complete -c imx -n "__fish_imx_using_subcommand audit; and not __fish_seen_subcommand_from list show tail verify checkpoint report export prune" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c imx -n "__fish_imx_using_subcommand audit; and not __fish_seen_subcommand_from list show tail verify checkpoint report export prune" -f -a "list" -d 'List audit records (filter by time, actor, action, target, outcome)'
complete -c imx -n "__fish_imx_using_subcommand audit; and not __fish_seen_subcommand_from list show tail verify checkpoint report export prune" -f -a "show" -d 'Show one audit record with its hashes'
complete -c imx -n "__fish_imx_using_subcommand audit; and not __fish_seen_subcommand_from list show tail verify checkpoint report export prune" -f -a "tail" -d 'Show the newest records; with -f, keep printing new ones'
complete -c imx -n "__fish_imx_using_subcommand audit; and not __fish_seen_subcommand_from list show tail verify checkpoint report export prune" -f -a "verify" -d 'Verify the hash chain; exit non-zero naming the first bad record'
complete -c imx -n "__fish_imx_using_subcommand audit; and not __fish_seen_subcommand_from list show tail verify checkpoint report export prune" -f -a "checkpoint" -d 'Sign the chain head with the audit key kept outside the store (detects truncation)'
complete -c imx -n "__fish_imx_using_subcommand audit; and not __fish_seen_subcommand_from list show tail verify checkpoint report export prune" -f -a "report" -d 'An auditor\'s report: activity, auth failures, privilege changes, runs, agents, backups'
complete -c imx -n "__fish_imx_using_subcommand audit; and not __fish_seen_subcommand_from list show tail verify checkpoint report export prune" -f -a "export" -d 'Export records as JSON lines (for SIEMs)'
complete -c imx -n "__fish_imx_using_subcommand audit; and not __fish_seen_subcommand_from list show tail verify checkpoint report export prune" -f -a "prune" -d 'Archive records older than a period into a file; the remaining chain still verifies'
complete -c imx -n "__fish_imx_using_subcommand audit; and __fish_seen_subcommand_from list" -l since -d 'Records at or after this time: a duration ago (1h, 7d), RFC 3339, or a date' -r
complete -c imx -n "__fish_imx_using_subcommand audit; and __fish_seen_subcommand_from list" -l until -d 'Records before this time (same forms as --since)' -r
complete -c imx -n "__fish_imx_using_subcommand audit; and __fish_seen_subcommand_from list" -l actor -d 'Only this actor (e.g. local:alice, user:bob, token:ci)' -r
complete -c imx -n "__fish_imx_using_subcommand audit; and __fish_seen_subcommand_from list" -l action -d 'Only this action; `backup.` or `backup.*` matches every backup action' -r
complete -c imx -n "__fish_imx_using_subcommand audit; and __fish_seen_subcommand_from list" -l target -d 'Only this target (a run id, workflow, agent, backup id, ...)' -r
complete -c imx -n "__fish_imx_using_subcommand audit; and __fish_seen_subcommand_from list" -l outcome -d 'Only this outcome: ok, denied, error' -r
complete -c imx -n "__fish_imx_using_subcommand audit; and __fish_seen_subcommand_from list" -s n -l limit -d 'Show at most this many (the newest; at least 1)' -r
complete -c imx -n "__fish_imx_using_subcommand audit; and __fish_seen_subcommand_from list" -l store -d 'The local store (a SQLite file) [default: ~/.local/share/imx/imx.db]' -r -F
complete -c imx -n "__fish_imx_using_subcommand audit; and __fish_seen_subcommand_from list" -l server -d 'A remote control plane: an `imx server` URL (token from IMX_TOKEN or `imx login`)' -r
complete -c imx -n "__fish_imx_using_subcommand audit; and __fish_seen_subcommand_from list" -l context -d 'Use a named context (see `imx context list`) instead of the current one' -r
complete -c imx -n "__fish_imx_using_subcommand audit; and __fish_seen_subcommand_from list" -s o -l output -d 'Output format for data on stdout; `template=TEXT` picks fields (see `imx help output`)' -r -f -a "table\t'Aligned columns for people (short ids, relative times)'
wide\t'The table with more columns (full ids, labels, ...)'
json\t'JSON: the model objects (times RFC 3339, durations in `*_ms`); lists are arrays, streams of records (run logs, audit tail) one object per line'
yaml\t'YAML: the same data as JSON'
csv\t'CSV: a header and the table\'s columns (full ids, RFC 3339 times)'
name\t'Bare ids or names, one per line'
template=\t'TEXT: a Jinja template per record, e.g. template=\'{{ id }} {{ status }}\''"
complete -c imx -n "__fish_imx_using_subcommand audit; and __fish_seen_subcommand_from list" -l all -d 'Every matching record (no --limit)'
complete -c imx -n "__fish_imx_using_subcommand audit; and __fish_seen_subcommand_from list" -l insecure -d 'Allow a plain http:// server that is not on this machine: tokens and passwords cross the network in clear (a warning each time). Loopback needs no flag'
complete -c imx -n "__fish_imx_using_subcommand audit; and __fish_seen_subcommand_from list" -s q -l quiet -d 'Print only data and errors: no status lines, hints or progress'
complete -c imx -n "__fish_imx_using_subcommand audit; and __fish_seen_subcommand_from list" -s v -l verbose -d 'Say more (repeat for even more)'
complete -c imx -n "__fish_imx_using_subcommand audit; and __fish_seen_subcommand_from list" -l no-color -d 'No colour (also when NO_COLOR is set or output is not a terminal)'
complete -c imx -n "__fish_imx_using_subcommand audit; and __fish_seen_subcommand_from list" -s y -l yes -d 'Answer yes to confirmation prompts (needed for destructive commands in scripts)'
complete -c imx -n "__fish_imx_using_subcommand audit; and __fish_seen_subcommand_from list" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c imx -n "__fish_imx_using_subcommand audit; and __fish_seen_subcommand_from show" -l store -d 'The local store (a SQLite file) [default: ~/.local/share/imx/imx.db]' -r -F
complete -c imx -n "__fish_imx_using_subcommand audit; and __fish_seen_subcommand_from show" -l server -d 'A remote control plane: an `imx server` URL (token from IMX_TOKEN or `imx login`)' -r
complete -c imx -n "__fish_imx_using_subcommand audit; and __fish_seen_subcommand_from show" -l context -d 'Use a named context (see `imx context list`) instead of the current one' -r
complete -c imx -n "__fish_imx_using_subcommand audit; and __fish_seen_subcommand_from show" -s o -l output -d 'Output format for data on stdout; `template=TEXT` picks fields (see `imx help output`)' -r -f -a "table\t'Aligned columns for people (short ids, relative times)'
wide\t'The table with more columns (full ids, labels, ...)'
json\t'JSON: the model objects (times RFC 3339, durations in `*_ms`); lists are arrays, streams of records (run logs, audit tail) one object per line'
yaml\t'YAML: the same data as JSON'
csv\t'CSV: a header and the table\'s columns (full ids, RFC 3339 times)'
name\t'Bare ids or names, one per line'
template=\t'TEXT: a Jinja template per record, e.g. template=\'{{ id }} {{ status }}\''"
complete -c imx -n "__fish_imx_using_subcommand audit; and __fish_seen_subcommand_from show" -l insecure -d 'Allow a plain http:// server that is not on this machine: tokens and passwords cross the network in clear (a warning each time). Loopback needs no flag'
complete -c imx -n "__fish_imx_using_subcommand audit; and __fish_seen_subcommand_from show" -s q -l quiet -d 'Print only data and errors: no status lines, hints or progress'
complete -c imx -n "__fish_imx_using_subcommand audit; and __fish_seen_subcommand_from show" -s v -l verbose -d 'Say more (repeat for even more)'
complete -c imx -n "__fish_imx_using_subcommand audit; and __fish_seen_subcommand_from show" -l no-color -d 'No colour (also when NO_COLOR is set or output is not a terminal)'
complete -c imx -n "__fish_imx_using_subcommand audit; and __fish_seen_subcommand_from show" -s y -l yes -d 'Answer yes to confirmation prompts (needed for destructive commands in scripts)'
complete -c imx -n "__fish_imx_using_subcommand audit; and __fish_seen_subcommand_from show" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c imx -n "__fish_imx_using_subcommand audit; and __fish_seen_subcommand_from tail" -s n -l lines -d 'How many of the newest records to show first' -r
complete -c imx -n "__fish_imx_using_subcommand audit; and __fish_seen_subcommand_from tail" -l since -d 'Records at or after this time: a duration ago (1h, 7d), RFC 3339, or a date' -r
complete -c imx -n "__fish_imx_using_subcommand audit; and __fish_seen_subcommand_from tail" -l until -d 'Records before this time (same forms as --since)' -r
complete -c imx -n "__fish_imx_using_subcommand audit; and __fish_seen_subcommand_from tail" -l actor -d 'Only this actor (e.g. local:alice, user:bob, token:ci)' -r
complete -c imx -n "__fish_imx_using_subcommand audit; and __fish_seen_subcommand_from tail" -l action -d 'Only this action; `backup.` or `backup.*` matches every backup action' -r
complete -c imx -n "__fish_imx_using_subcommand audit; and __fish_seen_subcommand_from tail" -l target -d 'Only this target (a run id, workflow, agent, backup id, ...)' -r
complete -c imx -n "__fish_imx_using_subcommand audit; and __fish_seen_subcommand_from tail" -l outcome -d 'Only this outcome: ok, denied, error' -r
complete -c imx -n "__fish_imx_using_subcommand audit; and __fish_seen_subcommand_from tail" -l store -d 'The local store (a SQLite file) [default: ~/.local/share/imx/imx.db]' -r -F
complete -c imx -n "__fish_imx_using_subcommand audit; and __fish_seen_subcommand_from tail" -l server -d 'A remote control plane: an `imx server` URL (token from IMX_TOKEN or `imx login`)' -r
complete -c imx -n "__fish_imx_using_subcommand audit; and __fish_seen_subcommand_from tail" -l context -d 'Use a named context (see `imx context list`) instead of the current one' -r
complete -c imx -n "__fish_imx_using_subcommand audit; and __fish_seen_subcommand_from tail" -s o -l output -d 'Output format for data on stdout; `template=TEXT` picks fields (see `imx help output`)' -r -f -a "table\t'Aligned columns for people (short ids, relative times)'
wide\t'The table with more columns (full ids, labels, ...)'
json\t'JSON: the model objects (times RFC 3339, durations in `*_ms`); lists are arrays, streams of records (run logs, audit tail) one object per line'
yaml\t'YAML: the same data as JSON'
csv\t'CSV: a header and the table\'s columns (full ids, RFC 3339 times)'
name\t'Bare ids or names, one per line'
template=\t'TEXT: a Jinja template per record, e.g. template=\'{{ id }} {{ status }}\''"
complete -c imx -n "__fish_imx_using_subcommand audit; and __fish_seen_subcommand_from tail" -s f -l follow -d 'Keep following new records'
complete -c imx -n "__fish_imx_using_subcommand audit; and __fish_seen_subcommand_from tail" -l insecure -d 'Allow a plain http:// server that is not on this machine: tokens and passwords cross the network in clear (a warning each time). Loopback needs no flag'
complete -c imx -n "__fish_imx_using_subcommand audit; and __fish_seen_subcommand_from tail" -s q -l quiet -d 'Print only data and errors: no status lines, hints or progress'
complete -c imx -n "__fish_imx_using_subcommand audit; and __fish_seen_subcommand_from tail" -s v -l verbose -d 'Say more (repeat for even more)'
complete -c imx -n "__fish_imx_using_subcommand audit; and __fish_seen_subcommand_from tail" -l no-color -d 'No colour (also when NO_COLOR is set or output is not a terminal)'
complete -c imx -n "__fish_imx_using_subcommand audit; and __fish_seen_subcommand_from tail" -s y -l yes -d 'Answer yes to confirmation prompts (needed for destructive commands in scripts)'
complete -c imx -n "__fish_imx_using_subcommand audit; and __fish_seen_subcommand_from tail" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c imx -n "__fish_imx_using_subcommand audit; and __fish_seen_subcommand_from verify" -l archive -d 'Verify an archive written by `audit prune` instead of the store' -r -F
complete -c imx -n "__fish_imx_using_subcommand audit; and __fish_seen_subcommand_from verify" -l store -d 'The local store (a SQLite file) [default: ~/.local/share/imx/imx.db]' -r -F
complete -c imx -n "__fish_imx_using_subcommand audit; and __fish_seen_subcommand_from verify" -l server -d 'A remote control plane: an `imx server` URL (token from IMX_TOKEN or `imx login`)' -r
complete -c imx -n "__fish_imx_using_subcommand audit; and __fish_seen_subcommand_from verify" -l context -d 'Use a named context (see `imx context list`) instead of the current one' -r
complete -c imx -n "__fish_imx_using_subcommand audit; and __fish_seen_subcommand_from verify" -s o -l output -d 'Output format for data on stdout; `template=TEXT` picks fields (see `imx help output`)' -r -f -a "table\t'Aligned columns for people (short ids, relative times)'
wide\t'The table with more columns (full ids, labels, ...)'
json\t'JSON: the model objects (times RFC 3339, durations in `*_ms`); lists are arrays, streams of records (run logs, audit tail) one object per line'
yaml\t'YAML: the same data as JSON'
csv\t'CSV: a header and the table\'s columns (full ids, RFC 3339 times)'
name\t'Bare ids or names, one per line'
template=\t'TEXT: a Jinja template per record, e.g. template=\'{{ id }} {{ status }}\''"
complete -c imx -n "__fish_imx_using_subcommand audit; and __fish_seen_subcommand_from verify" -l insecure -d 'Allow a plain http:// server that is not on this machine: tokens and passwords cross the network in clear (a warning each time). Loopback needs no flag'
complete -c imx -n "__fish_imx_using_subcommand audit; and __fish_seen_subcommand_from verify" -s q -l quiet -d 'Print only data and errors: no status lines, hints or progress'
complete -c imx -n "__fish_imx_using_subcommand audit; and __fish_seen_subcommand_from verify" -s v -l verbose -d 'Say more (repeat for even more)'
complete -c imx -n "__fish_imx_using_subcommand audit; and __fish_seen_subcommand_from verify" -l no-color -d 'No colour (also when NO_COLOR is set or output is not a terminal)'
complete -c imx -n "__fish_imx_using_subcommand audit; and __fish_seen_subcommand_from verify" -s y -l yes -d 'Answer yes to confirmation prompts (needed for destructive commands in scripts)'
complete -c imx -n "__fish_imx_using_subcommand audit; and __fish_seen_subcommand_from verify" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c imx -n "__fish_imx_using_subcommand audit; and __fish_seen_subcommand_from checkpoint" -l store -d 'The local store (a SQLite file) [default: ~/.local/share/imx/imx.db]' -r -F
complete -c imx -n "__fish_imx_using_subcommand audit; and __fish_seen_subcommand_from checkpoint" -l server -d 'A remote control plane: an `imx server` URL (token from IMX_TOKEN or `imx login`)' -r
complete -c imx -n "__fish_imx_using_subcommand audit; and __fish_seen_subcommand_from checkpoint" -l context -d 'Use a named context (see `imx context list`) instead of the current one' -r
complete -c imx -n "__fish_imx_using_subcommand audit; and __fish_seen_subcommand_from checkpoint" -s o -l output -d 'Output format for data on stdout; `template=TEXT` picks fields (see `imx help output`)' -r -f -a "table\t'Aligned columns for people (short ids, relative times)'
wide\t'The table with more columns (full ids, labels, ...)'
json\t'JSON: the model objects (times RFC 3339, durations in `*_ms`); lists are arrays, streams of records (run logs, audit tail) one object per line'
yaml\t'YAML: the same data as JSON'
csv\t'CSV: a header and the table\'s columns (full ids, RFC 3339 times)'
name\t'Bare ids or names, one per line'
template=\t'TEXT: a Jinja template per record, e.g. template=\'{{ id }} {{ status }}\''"
complete -c imx -n "__fish_imx_using_subcommand audit; and __fish_seen_subcommand_from checkpoint" -l repair -d 'Withdraw checkpoint-log entries that sign a record the store never committed (left by an interrupted checkpoint of an older imx), then take a checkpoint. Only entries proven to be such are withdrawn: the signed hash must follow from the record the store holds before it, so every record the entry covered is still there. Any other damage is refused and nothing is changed. The repair is audited (audit.checkpoint.repair)'
complete -c imx -n "__fish_imx_using_subcommand audit; and __fish_seen_subcommand_from checkpoint" -l insecure -d 'Allow a plain http:// server that is not on this machine: tokens and passwords cross the network in clear (a warning each time). Loopback needs no flag'
complete -c imx -n "__fish_imx_using_subcommand audit; and __fish_seen_subcommand_from checkpoint" -s q -l quiet -d 'Print only data and errors: no status lines, hints or progress'
complete -c imx -n "__fish_imx_using_subcommand audit; and __fish_seen_subcommand_from checkpoint" -s v -l verbose -d 'Say more (repeat for even more)'
complete -c imx -n "__fish_imx_using_subcommand audit; and __fish_seen_subcommand_from checkpoint" -l no-color -d 'No colour (also when NO_COLOR is set or output is not a terminal)'
complete -c imx -n "__fish_imx_using_subcommand audit; and __fish_seen_subcommand_from checkpoint" -s y -l yes -d 'Answer yes to confirmation prompts (needed for destructive commands in scripts)'
complete -c imx -n "__fish_imx_using_subcommand audit; and __fish_seen_subcommand_from checkpoint" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c imx -n "__fish_imx_using_subcommand audit; and __fish_seen_subcommand_from report" -l since -d 'Start of the period: a duration ago (30d), RFC 3339, or a date' -r
complete -c imx -n "__fish_imx_using_subcommand audit; and __fish_seen_subcommand_from report" -l until -d 'End of the period (exclusive)' -r
complete -c imx -n "__fish_imx_using_subcommand audit; and __fish_seen_subcommand_from report" -l format -d 'Report format' -r -f -a "table\t''
json\t''
csv\t''
markdown\t''
html\t''"
complete -c imx -n "__fish_imx_using_subcommand audit; and __fish_seen_subcommand_from report" -l out -d 'Write the report to this file instead of stdout' -r -F
complete -c imx -n "__fish_imx_using_subcommand audit; and __fish_seen_subcommand_from report" -l store -d 'The local store (a SQLite file) [default: ~/.local/share/imx/imx.db]' -r -F
complete -c imx -n "__fish_imx_using_subcommand audit; and __fish_seen_subcommand_from report" -l server -d 'A remote control plane: an `imx server` URL (token from IMX_TOKEN or `imx login`)' -r
complete -c imx -n "__fish_imx_using_subcommand audit; and __fish_seen_subcommand_from report" -l context -d 'Use a named context (see `imx context list`) instead of the current one' -r
complete -c imx -n "__fish_imx_using_subcommand audit; and __fish_seen_subcommand_from report" -s o -l output -d 'Output format for data on stdout; `template=TEXT` picks fields (see `imx help output`)' -r -f -a "table\t'Aligned columns for people (short ids, relative times)'
wide\t'The table with more columns (full ids, labels, ...)'
json\t'JSON: the model objects (times RFC 3339, durations in `*_ms`); lists are arrays, streams of records (run logs, audit tail) one object per line'
yaml\t'YAML: the same data as JSON'
csv\t'CSV: a header and the table\'s columns (full ids, RFC 3339 times)'
name\t'Bare ids or names, one per line'
template=\t'TEXT: a Jinja template per record, e.g. template=\'{{ id }} {{ status }}\''"
complete -c imx -n "__fish_imx_using_subcommand audit; and __fish_seen_subcommand_from report" -l insecure -d 'Allow a plain http:// server that is not on this machine: tokens and passwords cross the network in clear (a warning each time). Loopback needs no flag'
complete -c imx -n "__fish_imx_using_subcommand audit; and __fish_seen_subcommand_from report" -s q -l quiet -d 'Print only data and errors: no status lines, hints or progress'
complete -c imx -n "__fish_imx_using_subcommand audit; and __fish_seen_subcommand_from report" -s v -l verbose -d 'Say more (repeat for even more)'
complete -c imx -n "__fish_imx_using_subcommand audit; and __fish_seen_subcommand_from report" -l no-color -d 'No colour (also when NO_COLOR is set or output is not a terminal)'
complete -c imx -n "__fish_imx_using_subcommand audit; and __fish_seen_subcommand_from report" -s y -l yes -d 'Answer yes to confirmation prompts (needed for destructive commands in scripts)'
complete -c imx -n "__fish_imx_using_subcommand audit; and __fish_seen_subcommand_from report" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c imx -n "__fish_imx_using_subcommand audit; and __fish_seen_subcommand_from export" -l format -d 'Export format' -r -f -a "jsonl\t''"
complete -c imx -n "__fish_imx_using_subcommand audit; and __fish_seen_subcommand_from export" -l out -d 'Write to this file instead of stdout' -r -F
complete -c imx -n "__fish_imx_using_subcommand audit; and __fish_seen_subcommand_from export" -l since -d 'Records at or after this time: a duration ago (1h, 7d), RFC 3339, or a date' -r
complete -c imx -n "__fish_imx_using_subcommand audit; and __fish_seen_subcommand_from export" -l until -d 'Records before this time (same forms as --since)' -r
complete -c imx -n "__fish_imx_using_subcommand audit; and __fish_seen_subcommand_from export" -l actor -d 'Only this actor (e.g. local:alice, user:bob, token:ci)' -r
complete -c imx -n "__fish_imx_using_subcommand audit; and __fish_seen_subcommand_from export" -l action -d 'Only this action; `backup.` or `backup.*` matches every backup action' -r
complete -c imx -n "__fish_imx_using_subcommand audit; and __fish_seen_subcommand_from export" -l target -d 'Only this target (a run id, workflow, agent, backup id, ...)' -r
complete -c imx -n "__fish_imx_using_subcommand audit; and __fish_seen_subcommand_from export" -l outcome -d 'Only this outcome: ok, denied, error' -r
complete -c imx -n "__fish_imx_using_subcommand audit; and __fish_seen_subcommand_from export" -l store -d 'The local store (a SQLite file) [default: ~/.local/share/imx/imx.db]' -r -F
complete -c imx -n "__fish_imx_using_subcommand audit; and __fish_seen_subcommand_from export" -l server -d 'A remote control plane: an `imx server` URL (token from IMX_TOKEN or `imx login`)' -r
complete -c imx -n "__fish_imx_using_subcommand audit; and __fish_seen_subcommand_from export" -l context -d 'Use a named context (see `imx context list`) instead of the current one' -r
complete -c imx -n "__fish_imx_using_subcommand audit; and __fish_seen_subcommand_from export" -s o -l output -d 'Output format for data on stdout; `template=TEXT` picks fields (see `imx help output`)' -r -f -a "table\t'Aligned columns for people (short ids, relative times)'
wide\t'The table with more columns (full ids, labels, ...)'
json\t'JSON: the model objects (times RFC 3339, durations in `*_ms`); lists are arrays, streams of records (run logs, audit tail) one object per line'
yaml\t'YAML: the same data as JSON'
csv\t'CSV: a header and the table\'s columns (full ids, RFC 3339 times)'
name\t'Bare ids or names, one per line'
template=\t'TEXT: a Jinja template per record, e.g. template=\'{{ id }} {{ status }}\''"
complete -c imx -n "__fish_imx_using_subcommand audit; and __fish_seen_subcommand_from export" -l insecure -d 'Allow a plain http:// server that is not on this machine: tokens and passwords cross the network in clear (a warning each time). Loopback needs no flag'
complete -c imx -n "__fish_imx_using_subcommand audit; and __fish_seen_subcommand_from export" -s q -l quiet -d 'Print only data and errors: no status lines, hints or progress'
complete -c imx -n "__fish_imx_using_subcommand audit; and __fish_seen_subcommand_from export" -s v -l verbose -d 'Say more (repeat for even more)'
complete -c imx -n "__fish_imx_using_subcommand audit; and __fish_seen_subcommand_from export" -l no-color -d 'No colour (also when NO_COLOR is set or output is not a terminal)'
complete -c imx -n "__fish_imx_using_subcommand audit; and __fish_seen_subcommand_from export" -s y -l yes -d 'Answer yes to confirmation prompts (needed for destructive commands in scripts)'
complete -c imx -n "__fish_imx_using_subcommand audit; and __fish_seen_subcommand_from export" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c imx -n "__fish_imx_using_subcommand audit; and __fish_seen_subcommand_from prune" -l keep -d 'Keep records newer than this (e.g. 365d, 90d)' -r
complete -c imx -n "__fish_imx_using_subcommand audit; and __fish_seen_subcommand_from prune" -l archive-dir -d 'Where to write the archive [default: audit-archive/ beside the store]' -r -F
complete -c imx -n "__fish_imx_using_subcommand audit; and __fish_seen_subcommand_from prune" -l store -d 'The local store (a SQLite file) [default: ~/.local/share/imx/imx.db]' -r -F
complete -c imx -n "__fish_imx_using_subcommand audit; and __fish_seen_subcommand_from prune" -l server -d 'A remote control plane: an `imx server` URL (token from IMX_TOKEN or `imx login`)' -r
complete -c imx -n "__fish_imx_using_subcommand audit; and __fish_seen_subcommand_from prune" -l context -d 'Use a named context (see `imx context list`) instead of the current one' -r
complete -c imx -n "__fish_imx_using_subcommand audit; and __fish_seen_subcommand_from prune" -s o -l output -d 'Output format for data on stdout; `template=TEXT` picks fields (see `imx help output`)' -r -f -a "table\t'Aligned columns for people (short ids, relative times)'
wide\t'The table with more columns (full ids, labels, ...)'
json\t'JSON: the model objects (times RFC 3339, durations in `*_ms`); lists are arrays, streams of records (run logs, audit tail) one object per line'
yaml\t'YAML: the same data as JSON'
csv\t'CSV: a header and the table\'s columns (full ids, RFC 3339 times)'
name\t'Bare ids or names, one per line'
template=\t'TEXT: a Jinja template per record, e.g. template=\'{{ id }} {{ status }}\''"
complete -c imx -n "__fish_imx_using_subcommand audit; and __fish_seen_subcommand_from prune" -l dry-run -d 'Show what would be archived; change nothing'
complete -c imx -n "__fish_imx_using_subcommand audit; and __fish_seen_subcommand_from prune" -l insecure -d 'Allow a plain http:// server that is not on this machine: tokens and passwords cross the network in clear (a warning each time). Loopback needs no flag'
complete -c imx -n "__fish_imx_using_subcommand audit; and __fish_seen_subcommand_from prune" -s q -l quiet -d 'Print only data and errors: no status lines, hints or progress'
complete -c imx -n "__fish_imx_using_subcommand audit; and __fish_seen_subcommand_from prune" -s v -l verbose -d 'Say more (repeat for even more)'
complete -c imx -n "__fish_imx_using_subcommand audit; and __fish_seen_subcommand_from prune" -l no-color -d 'No colour (also when NO_COLOR is set or output is not a terminal)'
complete -c imx -n "__fish_imx_using_subcommand audit; and __fish_seen_subcommand_from prune" -s y -l yes -d 'Answer yes to confirmation prompts (needed for destructive commands in scripts)'
complete -c imx -n "__fish_imx_using_subcommand audit; and __fish_seen_subcommand_from prune" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c imx -n "__fish_imx_using_subcommand completions" -l store -d 'The local store (a SQLite file) [default: ~/.local/share/imx/imx.db]' -r -F
complete -c imx -n "__fish_imx_using_subcommand completions" -l server -d 'A remote control plane: an `imx server` URL (token from IMX_TOKEN or `imx login`)' -r
complete -c imx -n "__fish_imx_using_subcommand completions" -l context -d 'Use a named context (see `imx context list`) instead of the current one' -r
complete -c imx -n "__fish_imx_using_subcommand completions" -s o -l output -d 'Output format for data on stdout; `template=TEXT` picks fields (see `imx help output`)' -r -f -a "table\t'Aligned columns for people (short ids, relative times)'
wide\t'The table with more columns (full ids, labels, ...)'
json\t'JSON: the model objects (times RFC 3339, durations in `*_ms`); lists are arrays, streams of records (run logs, audit tail) one object per line'
yaml\t'YAML: the same data as JSON'
csv\t'CSV: a header and the table\'s columns (full ids, RFC 3339 times)'
name\t'Bare ids or names, one per line'
template=\t'TEXT: a Jinja template per record, e.g. template=\'{{ id }} {{ status }}\''"
complete -c imx -n "__fish_imx_using_subcommand completions" -l insecure -d 'Allow a plain http:// server that is not on this machine: tokens and passwords cross the network in clear (a warning each time). Loopback needs no flag'
complete -c imx -n "__fish_imx_using_subcommand completions" -s q -l quiet -d 'Print only data and errors: no status lines, hints or progress'
complete -c imx -n "__fish_imx_using_subcommand completions" -s v -l verbose -d 'Say more (repeat for even more)'
complete -c imx -n "__fish_imx_using_subcommand completions" -l no-color -d 'No colour (also when NO_COLOR is set or output is not a terminal)'
complete -c imx -n "__fish_imx_using_subcommand completions" -s y -l yes -d 'Answer yes to confirmation prompts (needed for destructive commands in scripts)'
complete -c imx -n "__fish_imx_using_subcommand completions" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c imx -n "__fish_imx_using_subcommand man" -l out -d 'Write all pages into this directory (created if missing)' -r -F
complete -c imx -n "__fish_imx_using_subcommand man" -l store -d 'The local store (a SQLite file) [default: ~/.local/share/imx/imx.db]' -r -F
complete -c imx -n "__fish_imx_using_subcommand man" -l server -d 'A remote control plane: an `imx server` URL (token from IMX_TOKEN or `imx login`)' -r
complete -c imx -n "__fish_imx_using_subcommand man" -l context -d 'Use a named context (see `imx context list`) instead of the current one' -r
complete -c imx -n "__fish_imx_using_subcommand man" -s o -l output -d 'Output format for data on stdout; `template=TEXT` picks fields (see `imx help output`)' -r -f -a "table\t'Aligned columns for people (short ids, relative times)'
wide\t'The table with more columns (full ids, labels, ...)'
json\t'JSON: the model objects (times RFC 3339, durations in `*_ms`); lists are arrays, streams of records (run logs, audit tail) one object per line'
yaml\t'YAML: the same data as JSON'
csv\t'CSV: a header and the table\'s columns (full ids, RFC 3339 times)'
name\t'Bare ids or names, one per line'
template=\t'TEXT: a Jinja template per record, e.g. template=\'{{ id }} {{ status }}\''"
complete -c imx -n "__fish_imx_using_subcommand man" -l insecure -d 'Allow a plain http:// server that is not on this machine: tokens and passwords cross the network in clear (a warning each time). Loopback needs no flag'
complete -c imx -n "__fish_imx_using_subcommand man" -s q -l quiet -d 'Print only data and errors: no status lines, hints or progress'
complete -c imx -n "__fish_imx_using_subcommand man" -s v -l verbose -d 'Say more (repeat for even more)'
complete -c imx -n "__fish_imx_using_subcommand man" -l no-color -d 'No colour (also when NO_COLOR is set or output is not a terminal)'
complete -c imx -n "__fish_imx_using_subcommand man" -s y -l yes -d 'Answer yes to confirmation prompts (needed for destructive commands in scripts)'
complete -c imx -n "__fish_imx_using_subcommand man" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c imx -n "__fish_imx_using_subcommand help" -l store -d 'The local store (a SQLite file) [default: ~/.local/share/imx/imx.db]' -r -F
complete -c imx -n "__fish_imx_using_subcommand help" -l server -d 'A remote control plane: an `imx server` URL (token from IMX_TOKEN or `imx login`)' -r
complete -c imx -n "__fish_imx_using_subcommand help" -l context -d 'Use a named context (see `imx context list`) instead of the current one' -r
complete -c imx -n "__fish_imx_using_subcommand help" -s o -l output -d 'Output format for data on stdout; `template=TEXT` picks fields (see `imx help output`)' -r -f -a "table\t'Aligned columns for people (short ids, relative times)'
wide\t'The table with more columns (full ids, labels, ...)'
json\t'JSON: the model objects (times RFC 3339, durations in `*_ms`); lists are arrays, streams of records (run logs, audit tail) one object per line'
yaml\t'YAML: the same data as JSON'
csv\t'CSV: a header and the table\'s columns (full ids, RFC 3339 times)'
name\t'Bare ids or names, one per line'
template=\t'TEXT: a Jinja template per record, e.g. template=\'{{ id }} {{ status }}\''"
complete -c imx -n "__fish_imx_using_subcommand help" -l insecure -d 'Allow a plain http:// server that is not on this machine: tokens and passwords cross the network in clear (a warning each time). Loopback needs no flag'
complete -c imx -n "__fish_imx_using_subcommand help" -s q -l quiet -d 'Print only data and errors: no status lines, hints or progress'
complete -c imx -n "__fish_imx_using_subcommand help" -s v -l verbose -d 'Say more (repeat for even more)'
complete -c imx -n "__fish_imx_using_subcommand help" -l no-color -d 'No colour (also when NO_COLOR is set or output is not a terminal)'
complete -c imx -n "__fish_imx_using_subcommand help" -s y -l yes -d 'Answer yes to confirmation prompts (needed for destructive commands in scripts)'
complete -c imx -n "__fish_imx_using_subcommand help" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c imx -n "__fish_imx_using_subcommand demo" -l agents -d 'How many agents to start in this process' -r
complete -c imx -n "__fish_imx_using_subcommand demo" -l store -d 'The local store (a SQLite file) [default: ~/.local/share/imx/imx.db]' -r -F
complete -c imx -n "__fish_imx_using_subcommand demo" -l server -d 'A remote control plane: an `imx server` URL (token from IMX_TOKEN or `imx login`)' -r
complete -c imx -n "__fish_imx_using_subcommand demo" -l context -d 'Use a named context (see `imx context list`) instead of the current one' -r
complete -c imx -n "__fish_imx_using_subcommand demo" -s o -l output -d 'Output format for data on stdout; `template=TEXT` picks fields (see `imx help output`)' -r -f -a "table\t'Aligned columns for people (short ids, relative times)'
wide\t'The table with more columns (full ids, labels, ...)'
json\t'JSON: the model objects (times RFC 3339, durations in `*_ms`); lists are arrays, streams of records (run logs, audit tail) one object per line'
yaml\t'YAML: the same data as JSON'
csv\t'CSV: a header and the table\'s columns (full ids, RFC 3339 times)'
name\t'Bare ids or names, one per line'
template=\t'TEXT: a Jinja template per record, e.g. template=\'{{ id }} {{ status }}\''"
complete -c imx -n "__fish_imx_using_subcommand demo" -l insecure -d 'Allow a plain http:// server that is not on this machine: tokens and passwords cross the network in clear (a warning each time). Loopback needs no flag'
complete -c imx -n "__fish_imx_using_subcommand demo" -s q -l quiet -d 'Print only data and errors: no status lines, hints or progress'
complete -c imx -n "__fish_imx_using_subcommand demo" -s v -l verbose -d 'Say more (repeat for even more)'
complete -c imx -n "__fish_imx_using_subcommand demo" -l no-color -d 'No colour (also when NO_COLOR is set or output is not a terminal)'
complete -c imx -n "__fish_imx_using_subcommand demo" -s y -l yes -d 'Answer yes to confirmation prompts (needed for destructive commands in scripts)'
complete -c imx -n "__fish_imx_using_subcommand demo" -s h -l help -d 'Print help (see more with \'--help\')'
