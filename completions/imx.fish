# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_imx_global_optspecs
    string join \n store= o/output= q/quiet v/verbose no-color y/yes h/help V/version
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
complete -c imx -n "__fish_imx_needs_command" -s o -l output -d 'Output format for data on stdout' -r -f -a "table\t'Aligned columns for people (short ids, relative times)'
wide\t'The table with more columns (full ids, labels, ...)'
json\t'JSON: the model objects; lists are arrays'
yaml\t'YAML: the same data as JSON'
csv\t'CSV: a header and the table\'s columns (full ids, RFC 3339 times)'
name\t'Bare ids or names, one per line'"
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
complete -c imx -n "__fish_imx_needs_command" -f -a "backup" -d 'Take, list, verify, restore and prune backups of the store'
complete -c imx -n "__fish_imx_needs_command" -f -a "audit" -d 'Read, verify, checkpoint, report on, export and prune the audit trail'
complete -c imx -n "__fish_imx_needs_command" -f -a "completions" -d 'Print shell completions to stdout'
complete -c imx -n "__fish_imx_needs_command" -f -a "man" -d 'Generate man pages'
complete -c imx -n "__fish_imx_needs_command" -f -a "help" -d 'Show help for a command, or a help topic (exit-codes)'
complete -c imx -n "__fish_imx_needs_command" -f -a "demo" -d 'Try imx in one command: a store, agents, example workflows and their runs'
complete -c imx -n "__fish_imx_using_subcommand init" -l store -d 'The local store (a SQLite file) [default: ~/.local/share/imx/imx.db]' -r -F
complete -c imx -n "__fish_imx_using_subcommand init" -s o -l output -d 'Output format for data on stdout' -r -f -a "table\t'Aligned columns for people (short ids, relative times)'
wide\t'The table with more columns (full ids, labels, ...)'
json\t'JSON: the model objects; lists are arrays'
yaml\t'YAML: the same data as JSON'
csv\t'CSV: a header and the table\'s columns (full ids, RFC 3339 times)'
name\t'Bare ids or names, one per line'"
complete -c imx -n "__fish_imx_using_subcommand init" -s q -l quiet -d 'Print only data and errors: no status lines, hints or progress'
complete -c imx -n "__fish_imx_using_subcommand init" -s v -l verbose -d 'Say more (repeat for even more)'
complete -c imx -n "__fish_imx_using_subcommand init" -l no-color -d 'No colour (also when NO_COLOR is set or output is not a terminal)'
complete -c imx -n "__fish_imx_using_subcommand init" -s y -l yes -d 'Answer yes to confirmation prompts (needed for destructive commands in scripts)'
complete -c imx -n "__fish_imx_using_subcommand init" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c imx -n "__fish_imx_using_subcommand status" -l store -d 'The local store (a SQLite file) [default: ~/.local/share/imx/imx.db]' -r -F
complete -c imx -n "__fish_imx_using_subcommand status" -s o -l output -d 'Output format for data on stdout' -r -f -a "table\t'Aligned columns for people (short ids, relative times)'
wide\t'The table with more columns (full ids, labels, ...)'
json\t'JSON: the model objects; lists are arrays'
yaml\t'YAML: the same data as JSON'
csv\t'CSV: a header and the table\'s columns (full ids, RFC 3339 times)'
name\t'Bare ids or names, one per line'"
complete -c imx -n "__fish_imx_using_subcommand status" -s q -l quiet -d 'Print only data and errors: no status lines, hints or progress'
complete -c imx -n "__fish_imx_using_subcommand status" -s v -l verbose -d 'Say more (repeat for even more)'
complete -c imx -n "__fish_imx_using_subcommand status" -l no-color -d 'No colour (also when NO_COLOR is set or output is not a terminal)'
complete -c imx -n "__fish_imx_using_subcommand status" -s y -l yes -d 'Answer yes to confirmation prompts (needed for destructive commands in scripts)'
complete -c imx -n "__fish_imx_using_subcommand status" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c imx -n "__fish_imx_using_subcommand workflow; and not __fish_seen_subcommand_from apply list show validate delete run" -l store -d 'The local store (a SQLite file) [default: ~/.local/share/imx/imx.db]' -r -F
complete -c imx -n "__fish_imx_using_subcommand workflow; and not __fish_seen_subcommand_from apply list show validate delete run" -s o -l output -d 'Output format for data on stdout' -r -f -a "table\t'Aligned columns for people (short ids, relative times)'
wide\t'The table with more columns (full ids, labels, ...)'
json\t'JSON: the model objects; lists are arrays'
yaml\t'YAML: the same data as JSON'
csv\t'CSV: a header and the table\'s columns (full ids, RFC 3339 times)'
name\t'Bare ids or names, one per line'"
complete -c imx -n "__fish_imx_using_subcommand workflow; and not __fish_seen_subcommand_from apply list show validate delete run" -s q -l quiet -d 'Print only data and errors: no status lines, hints or progress'
complete -c imx -n "__fish_imx_using_subcommand workflow; and not __fish_seen_subcommand_from apply list show validate delete run" -s v -l verbose -d 'Say more (repeat for even more)'
complete -c imx -n "__fish_imx_using_subcommand workflow; and not __fish_seen_subcommand_from apply list show validate delete run" -l no-color -d 'No colour (also when NO_COLOR is set or output is not a terminal)'
complete -c imx -n "__fish_imx_using_subcommand workflow; and not __fish_seen_subcommand_from apply list show validate delete run" -s y -l yes -d 'Answer yes to confirmation prompts (needed for destructive commands in scripts)'
complete -c imx -n "__fish_imx_using_subcommand workflow; and not __fish_seen_subcommand_from apply list show validate delete run" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c imx -n "__fish_imx_using_subcommand workflow; and not __fish_seen_subcommand_from apply list show validate delete run" -f -a "apply" -d 'Create or update workflows from files (a new version when a file changed)'
complete -c imx -n "__fish_imx_using_subcommand workflow; and not __fish_seen_subcommand_from apply list show validate delete run" -f -a "list" -d 'List workflows (latest versions)'
complete -c imx -n "__fish_imx_using_subcommand workflow; and not __fish_seen_subcommand_from apply list show validate delete run" -f -a "show" -d 'Show a workflow: its params and steps'
complete -c imx -n "__fish_imx_using_subcommand workflow; and not __fish_seen_subcommand_from apply list show validate delete run" -f -a "validate" -d 'Check workflow files without a store; reports every problem as file:line:col'
complete -c imx -n "__fish_imx_using_subcommand workflow; and not __fish_seen_subcommand_from apply list show validate delete run" -f -a "delete" -d 'Delete a workflow and all its versions (past runs keep their history)'
complete -c imx -n "__fish_imx_using_subcommand workflow; and not __fish_seen_subcommand_from apply list show validate delete run" -f -a "run" -d 'Start a run of a workflow, optionally waiting for it to end'
complete -c imx -n "__fish_imx_using_subcommand workflow; and __fish_seen_subcommand_from apply" -s f -l file -d 'A workflow file, or a folder of *.yaml/*.yml/*.json files; `-` reads stdin. Repeatable' -r -F
complete -c imx -n "__fish_imx_using_subcommand workflow; and __fish_seen_subcommand_from apply" -l store -d 'The local store (a SQLite file) [default: ~/.local/share/imx/imx.db]' -r -F
complete -c imx -n "__fish_imx_using_subcommand workflow; and __fish_seen_subcommand_from apply" -s o -l output -d 'Output format for data on stdout' -r -f -a "table\t'Aligned columns for people (short ids, relative times)'
wide\t'The table with more columns (full ids, labels, ...)'
json\t'JSON: the model objects; lists are arrays'
yaml\t'YAML: the same data as JSON'
csv\t'CSV: a header and the table\'s columns (full ids, RFC 3339 times)'
name\t'Bare ids or names, one per line'"
complete -c imx -n "__fish_imx_using_subcommand workflow; and __fish_seen_subcommand_from apply" -l dry-run -d 'Validate and show what would change, without changing anything'
complete -c imx -n "__fish_imx_using_subcommand workflow; and __fish_seen_subcommand_from apply" -s q -l quiet -d 'Print only data and errors: no status lines, hints or progress'
complete -c imx -n "__fish_imx_using_subcommand workflow; and __fish_seen_subcommand_from apply" -s v -l verbose -d 'Say more (repeat for even more)'
complete -c imx -n "__fish_imx_using_subcommand workflow; and __fish_seen_subcommand_from apply" -l no-color -d 'No colour (also when NO_COLOR is set or output is not a terminal)'
complete -c imx -n "__fish_imx_using_subcommand workflow; and __fish_seen_subcommand_from apply" -s y -l yes -d 'Answer yes to confirmation prompts (needed for destructive commands in scripts)'
complete -c imx -n "__fish_imx_using_subcommand workflow; and __fish_seen_subcommand_from apply" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c imx -n "__fish_imx_using_subcommand workflow; and __fish_seen_subcommand_from list" -l store -d 'The local store (a SQLite file) [default: ~/.local/share/imx/imx.db]' -r -F
complete -c imx -n "__fish_imx_using_subcommand workflow; and __fish_seen_subcommand_from list" -s o -l output -d 'Output format for data on stdout' -r -f -a "table\t'Aligned columns for people (short ids, relative times)'
wide\t'The table with more columns (full ids, labels, ...)'
json\t'JSON: the model objects; lists are arrays'
yaml\t'YAML: the same data as JSON'
csv\t'CSV: a header and the table\'s columns (full ids, RFC 3339 times)'
name\t'Bare ids or names, one per line'"
complete -c imx -n "__fish_imx_using_subcommand workflow; and __fish_seen_subcommand_from list" -s q -l quiet -d 'Print only data and errors: no status lines, hints or progress'
complete -c imx -n "__fish_imx_using_subcommand workflow; and __fish_seen_subcommand_from list" -s v -l verbose -d 'Say more (repeat for even more)'
complete -c imx -n "__fish_imx_using_subcommand workflow; and __fish_seen_subcommand_from list" -l no-color -d 'No colour (also when NO_COLOR is set or output is not a terminal)'
complete -c imx -n "__fish_imx_using_subcommand workflow; and __fish_seen_subcommand_from list" -s y -l yes -d 'Answer yes to confirmation prompts (needed for destructive commands in scripts)'
complete -c imx -n "__fish_imx_using_subcommand workflow; and __fish_seen_subcommand_from list" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c imx -n "__fish_imx_using_subcommand workflow; and __fish_seen_subcommand_from show" -l version -d 'A past version (default: the latest)' -r
complete -c imx -n "__fish_imx_using_subcommand workflow; and __fish_seen_subcommand_from show" -l store -d 'The local store (a SQLite file) [default: ~/.local/share/imx/imx.db]' -r -F
complete -c imx -n "__fish_imx_using_subcommand workflow; and __fish_seen_subcommand_from show" -s o -l output -d 'Output format for data on stdout' -r -f -a "table\t'Aligned columns for people (short ids, relative times)'
wide\t'The table with more columns (full ids, labels, ...)'
json\t'JSON: the model objects; lists are arrays'
yaml\t'YAML: the same data as JSON'
csv\t'CSV: a header and the table\'s columns (full ids, RFC 3339 times)'
name\t'Bare ids or names, one per line'"
complete -c imx -n "__fish_imx_using_subcommand workflow; and __fish_seen_subcommand_from show" -s q -l quiet -d 'Print only data and errors: no status lines, hints or progress'
complete -c imx -n "__fish_imx_using_subcommand workflow; and __fish_seen_subcommand_from show" -s v -l verbose -d 'Say more (repeat for even more)'
complete -c imx -n "__fish_imx_using_subcommand workflow; and __fish_seen_subcommand_from show" -l no-color -d 'No colour (also when NO_COLOR is set or output is not a terminal)'
complete -c imx -n "__fish_imx_using_subcommand workflow; and __fish_seen_subcommand_from show" -s y -l yes -d 'Answer yes to confirmation prompts (needed for destructive commands in scripts)'
complete -c imx -n "__fish_imx_using_subcommand workflow; and __fish_seen_subcommand_from show" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c imx -n "__fish_imx_using_subcommand workflow; and __fish_seen_subcommand_from validate" -s f -l file -d 'A workflow file, or a folder of them; `-` reads stdin. Repeatable' -r -F
complete -c imx -n "__fish_imx_using_subcommand workflow; and __fish_seen_subcommand_from validate" -l store -d 'The local store (a SQLite file) [default: ~/.local/share/imx/imx.db]' -r -F
complete -c imx -n "__fish_imx_using_subcommand workflow; and __fish_seen_subcommand_from validate" -s o -l output -d 'Output format for data on stdout' -r -f -a "table\t'Aligned columns for people (short ids, relative times)'
wide\t'The table with more columns (full ids, labels, ...)'
json\t'JSON: the model objects; lists are arrays'
yaml\t'YAML: the same data as JSON'
csv\t'CSV: a header and the table\'s columns (full ids, RFC 3339 times)'
name\t'Bare ids or names, one per line'"
complete -c imx -n "__fish_imx_using_subcommand workflow; and __fish_seen_subcommand_from validate" -s q -l quiet -d 'Print only data and errors: no status lines, hints or progress'
complete -c imx -n "__fish_imx_using_subcommand workflow; and __fish_seen_subcommand_from validate" -s v -l verbose -d 'Say more (repeat for even more)'
complete -c imx -n "__fish_imx_using_subcommand workflow; and __fish_seen_subcommand_from validate" -l no-color -d 'No colour (also when NO_COLOR is set or output is not a terminal)'
complete -c imx -n "__fish_imx_using_subcommand workflow; and __fish_seen_subcommand_from validate" -s y -l yes -d 'Answer yes to confirmation prompts (needed for destructive commands in scripts)'
complete -c imx -n "__fish_imx_using_subcommand workflow; and __fish_seen_subcommand_from validate" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c imx -n "__fish_imx_using_subcommand workflow; and __fish_seen_subcommand_from delete" -l store -d 'The local store (a SQLite file) [default: ~/.local/share/imx/imx.db]' -r -F
complete -c imx -n "__fish_imx_using_subcommand workflow; and __fish_seen_subcommand_from delete" -s o -l output -d 'Output format for data on stdout' -r -f -a "table\t'Aligned columns for people (short ids, relative times)'
wide\t'The table with more columns (full ids, labels, ...)'
json\t'JSON: the model objects; lists are arrays'
yaml\t'YAML: the same data as JSON'
csv\t'CSV: a header and the table\'s columns (full ids, RFC 3339 times)'
name\t'Bare ids or names, one per line'"
complete -c imx -n "__fish_imx_using_subcommand workflow; and __fish_seen_subcommand_from delete" -s q -l quiet -d 'Print only data and errors: no status lines, hints or progress'
complete -c imx -n "__fish_imx_using_subcommand workflow; and __fish_seen_subcommand_from delete" -s v -l verbose -d 'Say more (repeat for even more)'
complete -c imx -n "__fish_imx_using_subcommand workflow; and __fish_seen_subcommand_from delete" -l no-color -d 'No colour (also when NO_COLOR is set or output is not a terminal)'
complete -c imx -n "__fish_imx_using_subcommand workflow; and __fish_seen_subcommand_from delete" -s y -l yes -d 'Answer yes to confirmation prompts (needed for destructive commands in scripts)'
complete -c imx -n "__fish_imx_using_subcommand workflow; and __fish_seen_subcommand_from delete" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c imx -n "__fish_imx_using_subcommand workflow; and __fish_seen_subcommand_from run" -s p -l param -d 'A parameter, KEY=VALUE (repeatable); typed and checked against the workflow\'s params' -r
complete -c imx -n "__fish_imx_using_subcommand workflow; and __fish_seen_subcommand_from run" -l timeout -d 'Time limit for the run (overrides the workflow\'s timeout), e.g. 30s, 10m, 1h' -r
complete -c imx -n "__fish_imx_using_subcommand workflow; and __fish_seen_subcommand_from run" -l store -d 'The local store (a SQLite file) [default: ~/.local/share/imx/imx.db]' -r -F
complete -c imx -n "__fish_imx_using_subcommand workflow; and __fish_seen_subcommand_from run" -s o -l output -d 'Output format for data on stdout' -r -f -a "table\t'Aligned columns for people (short ids, relative times)'
wide\t'The table with more columns (full ids, labels, ...)'
json\t'JSON: the model objects; lists are arrays'
yaml\t'YAML: the same data as JSON'
csv\t'CSV: a header and the table\'s columns (full ids, RFC 3339 times)'
name\t'Bare ids or names, one per line'"
complete -c imx -n "__fish_imx_using_subcommand workflow; and __fish_seen_subcommand_from run" -s w -l wait -d 'Follow the run until it ends, with live progress; exit with its outcome'
complete -c imx -n "__fish_imx_using_subcommand workflow; and __fish_seen_subcommand_from run" -s q -l quiet -d 'Print only data and errors: no status lines, hints or progress'
complete -c imx -n "__fish_imx_using_subcommand workflow; and __fish_seen_subcommand_from run" -s v -l verbose -d 'Say more (repeat for even more)'
complete -c imx -n "__fish_imx_using_subcommand workflow; and __fish_seen_subcommand_from run" -l no-color -d 'No colour (also when NO_COLOR is set or output is not a terminal)'
complete -c imx -n "__fish_imx_using_subcommand workflow; and __fish_seen_subcommand_from run" -s y -l yes -d 'Answer yes to confirmation prompts (needed for destructive commands in scripts)'
complete -c imx -n "__fish_imx_using_subcommand workflow; and __fish_seen_subcommand_from run" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c imx -n "__fish_imx_using_subcommand run; and not __fish_seen_subcommand_from list show logs cancel retry wait watch" -l store -d 'The local store (a SQLite file) [default: ~/.local/share/imx/imx.db]' -r -F
complete -c imx -n "__fish_imx_using_subcommand run; and not __fish_seen_subcommand_from list show logs cancel retry wait watch" -s o -l output -d 'Output format for data on stdout' -r -f -a "table\t'Aligned columns for people (short ids, relative times)'
wide\t'The table with more columns (full ids, labels, ...)'
json\t'JSON: the model objects; lists are arrays'
yaml\t'YAML: the same data as JSON'
csv\t'CSV: a header and the table\'s columns (full ids, RFC 3339 times)'
name\t'Bare ids or names, one per line'"
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
complete -c imx -n "__fish_imx_using_subcommand run; and __fish_seen_subcommand_from list" -s s -l status -d 'Only runs in this state' -r
complete -c imx -n "__fish_imx_using_subcommand run; and __fish_seen_subcommand_from list" -l since -d 'Only runs created since: a duration ago (1h, 30m) or an RFC 3339 time' -r
complete -c imx -n "__fish_imx_using_subcommand run; and __fish_seen_subcommand_from list" -s n -l limit -d 'At most this many runs' -r
complete -c imx -n "__fish_imx_using_subcommand run; and __fish_seen_subcommand_from list" -l store -d 'The local store (a SQLite file) [default: ~/.local/share/imx/imx.db]' -r -F
complete -c imx -n "__fish_imx_using_subcommand run; and __fish_seen_subcommand_from list" -s o -l output -d 'Output format for data on stdout' -r -f -a "table\t'Aligned columns for people (short ids, relative times)'
wide\t'The table with more columns (full ids, labels, ...)'
json\t'JSON: the model objects; lists are arrays'
yaml\t'YAML: the same data as JSON'
csv\t'CSV: a header and the table\'s columns (full ids, RFC 3339 times)'
name\t'Bare ids or names, one per line'"
complete -c imx -n "__fish_imx_using_subcommand run; and __fish_seen_subcommand_from list" -s q -l quiet -d 'Print only data and errors: no status lines, hints or progress'
complete -c imx -n "__fish_imx_using_subcommand run; and __fish_seen_subcommand_from list" -s v -l verbose -d 'Say more (repeat for even more)'
complete -c imx -n "__fish_imx_using_subcommand run; and __fish_seen_subcommand_from list" -l no-color -d 'No colour (also when NO_COLOR is set or output is not a terminal)'
complete -c imx -n "__fish_imx_using_subcommand run; and __fish_seen_subcommand_from list" -s y -l yes -d 'Answer yes to confirmation prompts (needed for destructive commands in scripts)'
complete -c imx -n "__fish_imx_using_subcommand run; and __fish_seen_subcommand_from list" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c imx -n "__fish_imx_using_subcommand run; and __fish_seen_subcommand_from show" -l store -d 'The local store (a SQLite file) [default: ~/.local/share/imx/imx.db]' -r -F
complete -c imx -n "__fish_imx_using_subcommand run; and __fish_seen_subcommand_from show" -s o -l output -d 'Output format for data on stdout' -r -f -a "table\t'Aligned columns for people (short ids, relative times)'
wide\t'The table with more columns (full ids, labels, ...)'
json\t'JSON: the model objects; lists are arrays'
yaml\t'YAML: the same data as JSON'
csv\t'CSV: a header and the table\'s columns (full ids, RFC 3339 times)'
name\t'Bare ids or names, one per line'"
complete -c imx -n "__fish_imx_using_subcommand run; and __fish_seen_subcommand_from show" -s q -l quiet -d 'Print only data and errors: no status lines, hints or progress'
complete -c imx -n "__fish_imx_using_subcommand run; and __fish_seen_subcommand_from show" -s v -l verbose -d 'Say more (repeat for even more)'
complete -c imx -n "__fish_imx_using_subcommand run; and __fish_seen_subcommand_from show" -l no-color -d 'No colour (also when NO_COLOR is set or output is not a terminal)'
complete -c imx -n "__fish_imx_using_subcommand run; and __fish_seen_subcommand_from show" -s y -l yes -d 'Answer yes to confirmation prompts (needed for destructive commands in scripts)'
complete -c imx -n "__fish_imx_using_subcommand run; and __fish_seen_subcommand_from show" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c imx -n "__fish_imx_using_subcommand run; and __fish_seen_subcommand_from logs" -s s -l step -d 'Only this step\'s output' -r
complete -c imx -n "__fish_imx_using_subcommand run; and __fish_seen_subcommand_from logs" -l store -d 'The local store (a SQLite file) [default: ~/.local/share/imx/imx.db]' -r -F
complete -c imx -n "__fish_imx_using_subcommand run; and __fish_seen_subcommand_from logs" -s o -l output -d 'Output format for data on stdout' -r -f -a "table\t'Aligned columns for people (short ids, relative times)'
wide\t'The table with more columns (full ids, labels, ...)'
json\t'JSON: the model objects; lists are arrays'
yaml\t'YAML: the same data as JSON'
csv\t'CSV: a header and the table\'s columns (full ids, RFC 3339 times)'
name\t'Bare ids or names, one per line'"
complete -c imx -n "__fish_imx_using_subcommand run; and __fish_seen_subcommand_from logs" -s f -l follow -d 'Follow: keep printing new lines until the run ends'
complete -c imx -n "__fish_imx_using_subcommand run; and __fish_seen_subcommand_from logs" -s q -l quiet -d 'Print only data and errors: no status lines, hints or progress'
complete -c imx -n "__fish_imx_using_subcommand run; and __fish_seen_subcommand_from logs" -s v -l verbose -d 'Say more (repeat for even more)'
complete -c imx -n "__fish_imx_using_subcommand run; and __fish_seen_subcommand_from logs" -l no-color -d 'No colour (also when NO_COLOR is set or output is not a terminal)'
complete -c imx -n "__fish_imx_using_subcommand run; and __fish_seen_subcommand_from logs" -s y -l yes -d 'Answer yes to confirmation prompts (needed for destructive commands in scripts)'
complete -c imx -n "__fish_imx_using_subcommand run; and __fish_seen_subcommand_from logs" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c imx -n "__fish_imx_using_subcommand run; and __fish_seen_subcommand_from cancel" -l store -d 'The local store (a SQLite file) [default: ~/.local/share/imx/imx.db]' -r -F
complete -c imx -n "__fish_imx_using_subcommand run; and __fish_seen_subcommand_from cancel" -s o -l output -d 'Output format for data on stdout' -r -f -a "table\t'Aligned columns for people (short ids, relative times)'
wide\t'The table with more columns (full ids, labels, ...)'
json\t'JSON: the model objects; lists are arrays'
yaml\t'YAML: the same data as JSON'
csv\t'CSV: a header and the table\'s columns (full ids, RFC 3339 times)'
name\t'Bare ids or names, one per line'"
complete -c imx -n "__fish_imx_using_subcommand run; and __fish_seen_subcommand_from cancel" -s q -l quiet -d 'Print only data and errors: no status lines, hints or progress'
complete -c imx -n "__fish_imx_using_subcommand run; and __fish_seen_subcommand_from cancel" -s v -l verbose -d 'Say more (repeat for even more)'
complete -c imx -n "__fish_imx_using_subcommand run; and __fish_seen_subcommand_from cancel" -l no-color -d 'No colour (also when NO_COLOR is set or output is not a terminal)'
complete -c imx -n "__fish_imx_using_subcommand run; and __fish_seen_subcommand_from cancel" -s y -l yes -d 'Answer yes to confirmation prompts (needed for destructive commands in scripts)'
complete -c imx -n "__fish_imx_using_subcommand run; and __fish_seen_subcommand_from cancel" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c imx -n "__fish_imx_using_subcommand run; and __fish_seen_subcommand_from retry" -l from -d 'Rerun this step and everything that depends on it' -r
complete -c imx -n "__fish_imx_using_subcommand run; and __fish_seen_subcommand_from retry" -l store -d 'The local store (a SQLite file) [default: ~/.local/share/imx/imx.db]' -r -F
complete -c imx -n "__fish_imx_using_subcommand run; and __fish_seen_subcommand_from retry" -s o -l output -d 'Output format for data on stdout' -r -f -a "table\t'Aligned columns for people (short ids, relative times)'
wide\t'The table with more columns (full ids, labels, ...)'
json\t'JSON: the model objects; lists are arrays'
yaml\t'YAML: the same data as JSON'
csv\t'CSV: a header and the table\'s columns (full ids, RFC 3339 times)'
name\t'Bare ids or names, one per line'"
complete -c imx -n "__fish_imx_using_subcommand run; and __fish_seen_subcommand_from retry" -s q -l quiet -d 'Print only data and errors: no status lines, hints or progress'
complete -c imx -n "__fish_imx_using_subcommand run; and __fish_seen_subcommand_from retry" -s v -l verbose -d 'Say more (repeat for even more)'
complete -c imx -n "__fish_imx_using_subcommand run; and __fish_seen_subcommand_from retry" -l no-color -d 'No colour (also when NO_COLOR is set or output is not a terminal)'
complete -c imx -n "__fish_imx_using_subcommand run; and __fish_seen_subcommand_from retry" -s y -l yes -d 'Answer yes to confirmation prompts (needed for destructive commands in scripts)'
complete -c imx -n "__fish_imx_using_subcommand run; and __fish_seen_subcommand_from retry" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c imx -n "__fish_imx_using_subcommand run; and __fish_seen_subcommand_from wait" -l timeout -d 'Give up after this long (exit 12), e.g. 30s, 10m' -r
complete -c imx -n "__fish_imx_using_subcommand run; and __fish_seen_subcommand_from wait" -l store -d 'The local store (a SQLite file) [default: ~/.local/share/imx/imx.db]' -r -F
complete -c imx -n "__fish_imx_using_subcommand run; and __fish_seen_subcommand_from wait" -s o -l output -d 'Output format for data on stdout' -r -f -a "table\t'Aligned columns for people (short ids, relative times)'
wide\t'The table with more columns (full ids, labels, ...)'
json\t'JSON: the model objects; lists are arrays'
yaml\t'YAML: the same data as JSON'
csv\t'CSV: a header and the table\'s columns (full ids, RFC 3339 times)'
name\t'Bare ids or names, one per line'"
complete -c imx -n "__fish_imx_using_subcommand run; and __fish_seen_subcommand_from wait" -s q -l quiet -d 'Print only data and errors: no status lines, hints or progress'
complete -c imx -n "__fish_imx_using_subcommand run; and __fish_seen_subcommand_from wait" -s v -l verbose -d 'Say more (repeat for even more)'
complete -c imx -n "__fish_imx_using_subcommand run; and __fish_seen_subcommand_from wait" -l no-color -d 'No colour (also when NO_COLOR is set or output is not a terminal)'
complete -c imx -n "__fish_imx_using_subcommand run; and __fish_seen_subcommand_from wait" -s y -l yes -d 'Answer yes to confirmation prompts (needed for destructive commands in scripts)'
complete -c imx -n "__fish_imx_using_subcommand run; and __fish_seen_subcommand_from wait" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c imx -n "__fish_imx_using_subcommand run; and __fish_seen_subcommand_from watch" -l store -d 'The local store (a SQLite file) [default: ~/.local/share/imx/imx.db]' -r -F
complete -c imx -n "__fish_imx_using_subcommand run; and __fish_seen_subcommand_from watch" -s o -l output -d 'Output format for data on stdout' -r -f -a "table\t'Aligned columns for people (short ids, relative times)'
wide\t'The table with more columns (full ids, labels, ...)'
json\t'JSON: the model objects; lists are arrays'
yaml\t'YAML: the same data as JSON'
csv\t'CSV: a header and the table\'s columns (full ids, RFC 3339 times)'
name\t'Bare ids or names, one per line'"
complete -c imx -n "__fish_imx_using_subcommand run; and __fish_seen_subcommand_from watch" -s q -l quiet -d 'Print only data and errors: no status lines, hints or progress'
complete -c imx -n "__fish_imx_using_subcommand run; and __fish_seen_subcommand_from watch" -s v -l verbose -d 'Say more (repeat for even more)'
complete -c imx -n "__fish_imx_using_subcommand run; and __fish_seen_subcommand_from watch" -l no-color -d 'No colour (also when NO_COLOR is set or output is not a terminal)'
complete -c imx -n "__fish_imx_using_subcommand run; and __fish_seen_subcommand_from watch" -s y -l yes -d 'Answer yes to confirmation prompts (needed for destructive commands in scripts)'
complete -c imx -n "__fish_imx_using_subcommand run; and __fish_seen_subcommand_from watch" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c imx -n "__fish_imx_using_subcommand agent; and not __fish_seen_subcommand_from run list show drain resume remove" -l store -d 'The local store (a SQLite file) [default: ~/.local/share/imx/imx.db]' -r -F
complete -c imx -n "__fish_imx_using_subcommand agent; and not __fish_seen_subcommand_from run list show drain resume remove" -s o -l output -d 'Output format for data on stdout' -r -f -a "table\t'Aligned columns for people (short ids, relative times)'
wide\t'The table with more columns (full ids, labels, ...)'
json\t'JSON: the model objects; lists are arrays'
yaml\t'YAML: the same data as JSON'
csv\t'CSV: a header and the table\'s columns (full ids, RFC 3339 times)'
name\t'Bare ids or names, one per line'"
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
complete -c imx -n "__fish_imx_using_subcommand agent; and not __fish_seen_subcommand_from run list show drain resume remove" -f -a "remove" -d 'Remove an agent; its steps go back to the queue'
complete -c imx -n "__fish_imx_using_subcommand agent; and __fish_seen_subcommand_from run" -l name -d 'The agent\'s name [default: <hostname>-<pid>]' -r
complete -c imx -n "__fish_imx_using_subcommand agent; and __fish_seen_subcommand_from run" -s l -l labels -d 'Labels that steps can select on, e.g. os=linux,gpu=true' -r
complete -c imx -n "__fish_imx_using_subcommand agent; and __fish_seen_subcommand_from run" -l slots -d 'How many steps it runs at once' -r
complete -c imx -n "__fish_imx_using_subcommand agent; and __fish_seen_subcommand_from run" -l store -d 'The local store (a SQLite file) [default: ~/.local/share/imx/imx.db]' -r -F
complete -c imx -n "__fish_imx_using_subcommand agent; and __fish_seen_subcommand_from run" -s o -l output -d 'Output format for data on stdout' -r -f -a "table\t'Aligned columns for people (short ids, relative times)'
wide\t'The table with more columns (full ids, labels, ...)'
json\t'JSON: the model objects; lists are arrays'
yaml\t'YAML: the same data as JSON'
csv\t'CSV: a header and the table\'s columns (full ids, RFC 3339 times)'
name\t'Bare ids or names, one per line'"
complete -c imx -n "__fish_imx_using_subcommand agent; and __fish_seen_subcommand_from run" -s q -l quiet -d 'Print only data and errors: no status lines, hints or progress'
complete -c imx -n "__fish_imx_using_subcommand agent; and __fish_seen_subcommand_from run" -s v -l verbose -d 'Say more (repeat for even more)'
complete -c imx -n "__fish_imx_using_subcommand agent; and __fish_seen_subcommand_from run" -l no-color -d 'No colour (also when NO_COLOR is set or output is not a terminal)'
complete -c imx -n "__fish_imx_using_subcommand agent; and __fish_seen_subcommand_from run" -s y -l yes -d 'Answer yes to confirmation prompts (needed for destructive commands in scripts)'
complete -c imx -n "__fish_imx_using_subcommand agent; and __fish_seen_subcommand_from run" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c imx -n "__fish_imx_using_subcommand agent; and __fish_seen_subcommand_from list" -l store -d 'The local store (a SQLite file) [default: ~/.local/share/imx/imx.db]' -r -F
complete -c imx -n "__fish_imx_using_subcommand agent; and __fish_seen_subcommand_from list" -s o -l output -d 'Output format for data on stdout' -r -f -a "table\t'Aligned columns for people (short ids, relative times)'
wide\t'The table with more columns (full ids, labels, ...)'
json\t'JSON: the model objects; lists are arrays'
yaml\t'YAML: the same data as JSON'
csv\t'CSV: a header and the table\'s columns (full ids, RFC 3339 times)'
name\t'Bare ids or names, one per line'"
complete -c imx -n "__fish_imx_using_subcommand agent; and __fish_seen_subcommand_from list" -s q -l quiet -d 'Print only data and errors: no status lines, hints or progress'
complete -c imx -n "__fish_imx_using_subcommand agent; and __fish_seen_subcommand_from list" -s v -l verbose -d 'Say more (repeat for even more)'
complete -c imx -n "__fish_imx_using_subcommand agent; and __fish_seen_subcommand_from list" -l no-color -d 'No colour (also when NO_COLOR is set or output is not a terminal)'
complete -c imx -n "__fish_imx_using_subcommand agent; and __fish_seen_subcommand_from list" -s y -l yes -d 'Answer yes to confirmation prompts (needed for destructive commands in scripts)'
complete -c imx -n "__fish_imx_using_subcommand agent; and __fish_seen_subcommand_from list" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c imx -n "__fish_imx_using_subcommand agent; and __fish_seen_subcommand_from show" -l store -d 'The local store (a SQLite file) [default: ~/.local/share/imx/imx.db]' -r -F
complete -c imx -n "__fish_imx_using_subcommand agent; and __fish_seen_subcommand_from show" -s o -l output -d 'Output format for data on stdout' -r -f -a "table\t'Aligned columns for people (short ids, relative times)'
wide\t'The table with more columns (full ids, labels, ...)'
json\t'JSON: the model objects; lists are arrays'
yaml\t'YAML: the same data as JSON'
csv\t'CSV: a header and the table\'s columns (full ids, RFC 3339 times)'
name\t'Bare ids or names, one per line'"
complete -c imx -n "__fish_imx_using_subcommand agent; and __fish_seen_subcommand_from show" -s q -l quiet -d 'Print only data and errors: no status lines, hints or progress'
complete -c imx -n "__fish_imx_using_subcommand agent; and __fish_seen_subcommand_from show" -s v -l verbose -d 'Say more (repeat for even more)'
complete -c imx -n "__fish_imx_using_subcommand agent; and __fish_seen_subcommand_from show" -l no-color -d 'No colour (also when NO_COLOR is set or output is not a terminal)'
complete -c imx -n "__fish_imx_using_subcommand agent; and __fish_seen_subcommand_from show" -s y -l yes -d 'Answer yes to confirmation prompts (needed for destructive commands in scripts)'
complete -c imx -n "__fish_imx_using_subcommand agent; and __fish_seen_subcommand_from show" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c imx -n "__fish_imx_using_subcommand agent; and __fish_seen_subcommand_from drain" -l store -d 'The local store (a SQLite file) [default: ~/.local/share/imx/imx.db]' -r -F
complete -c imx -n "__fish_imx_using_subcommand agent; and __fish_seen_subcommand_from drain" -s o -l output -d 'Output format for data on stdout' -r -f -a "table\t'Aligned columns for people (short ids, relative times)'
wide\t'The table with more columns (full ids, labels, ...)'
json\t'JSON: the model objects; lists are arrays'
yaml\t'YAML: the same data as JSON'
csv\t'CSV: a header and the table\'s columns (full ids, RFC 3339 times)'
name\t'Bare ids or names, one per line'"
complete -c imx -n "__fish_imx_using_subcommand agent; and __fish_seen_subcommand_from drain" -s q -l quiet -d 'Print only data and errors: no status lines, hints or progress'
complete -c imx -n "__fish_imx_using_subcommand agent; and __fish_seen_subcommand_from drain" -s v -l verbose -d 'Say more (repeat for even more)'
complete -c imx -n "__fish_imx_using_subcommand agent; and __fish_seen_subcommand_from drain" -l no-color -d 'No colour (also when NO_COLOR is set or output is not a terminal)'
complete -c imx -n "__fish_imx_using_subcommand agent; and __fish_seen_subcommand_from drain" -s y -l yes -d 'Answer yes to confirmation prompts (needed for destructive commands in scripts)'
complete -c imx -n "__fish_imx_using_subcommand agent; and __fish_seen_subcommand_from drain" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c imx -n "__fish_imx_using_subcommand agent; and __fish_seen_subcommand_from resume" -l store -d 'The local store (a SQLite file) [default: ~/.local/share/imx/imx.db]' -r -F
complete -c imx -n "__fish_imx_using_subcommand agent; and __fish_seen_subcommand_from resume" -s o -l output -d 'Output format for data on stdout' -r -f -a "table\t'Aligned columns for people (short ids, relative times)'
wide\t'The table with more columns (full ids, labels, ...)'
json\t'JSON: the model objects; lists are arrays'
yaml\t'YAML: the same data as JSON'
csv\t'CSV: a header and the table\'s columns (full ids, RFC 3339 times)'
name\t'Bare ids or names, one per line'"
complete -c imx -n "__fish_imx_using_subcommand agent; and __fish_seen_subcommand_from resume" -s q -l quiet -d 'Print only data and errors: no status lines, hints or progress'
complete -c imx -n "__fish_imx_using_subcommand agent; and __fish_seen_subcommand_from resume" -s v -l verbose -d 'Say more (repeat for even more)'
complete -c imx -n "__fish_imx_using_subcommand agent; and __fish_seen_subcommand_from resume" -l no-color -d 'No colour (also when NO_COLOR is set or output is not a terminal)'
complete -c imx -n "__fish_imx_using_subcommand agent; and __fish_seen_subcommand_from resume" -s y -l yes -d 'Answer yes to confirmation prompts (needed for destructive commands in scripts)'
complete -c imx -n "__fish_imx_using_subcommand agent; and __fish_seen_subcommand_from resume" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c imx -n "__fish_imx_using_subcommand agent; and __fish_seen_subcommand_from remove" -l store -d 'The local store (a SQLite file) [default: ~/.local/share/imx/imx.db]' -r -F
complete -c imx -n "__fish_imx_using_subcommand agent; and __fish_seen_subcommand_from remove" -s o -l output -d 'Output format for data on stdout' -r -f -a "table\t'Aligned columns for people (short ids, relative times)'
wide\t'The table with more columns (full ids, labels, ...)'
json\t'JSON: the model objects; lists are arrays'
yaml\t'YAML: the same data as JSON'
csv\t'CSV: a header and the table\'s columns (full ids, RFC 3339 times)'
name\t'Bare ids or names, one per line'"
complete -c imx -n "__fish_imx_using_subcommand agent; and __fish_seen_subcommand_from remove" -s q -l quiet -d 'Print only data and errors: no status lines, hints or progress'
complete -c imx -n "__fish_imx_using_subcommand agent; and __fish_seen_subcommand_from remove" -s v -l verbose -d 'Say more (repeat for even more)'
complete -c imx -n "__fish_imx_using_subcommand agent; and __fish_seen_subcommand_from remove" -l no-color -d 'No colour (also when NO_COLOR is set or output is not a terminal)'
complete -c imx -n "__fish_imx_using_subcommand agent; and __fish_seen_subcommand_from remove" -s y -l yes -d 'Answer yes to confirmation prompts (needed for destructive commands in scripts)'
complete -c imx -n "__fish_imx_using_subcommand agent; and __fish_seen_subcommand_from remove" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c imx -n "__fish_imx_using_subcommand backup; and not __fish_seen_subcommand_from create list show verify restore prune keygen" -l store -d 'The local store (a SQLite file) [default: ~/.local/share/imx/imx.db]' -r -F
complete -c imx -n "__fish_imx_using_subcommand backup; and not __fish_seen_subcommand_from create list show verify restore prune keygen" -s o -l output -d 'Output format for data on stdout' -r -f -a "table\t'Aligned columns for people (short ids, relative times)'
wide\t'The table with more columns (full ids, labels, ...)'
json\t'JSON: the model objects; lists are arrays'
yaml\t'YAML: the same data as JSON'
csv\t'CSV: a header and the table\'s columns (full ids, RFC 3339 times)'
name\t'Bare ids or names, one per line'"
complete -c imx -n "__fish_imx_using_subcommand backup; and not __fish_seen_subcommand_from create list show verify restore prune keygen" -s q -l quiet -d 'Print only data and errors: no status lines, hints or progress'
complete -c imx -n "__fish_imx_using_subcommand backup; and not __fish_seen_subcommand_from create list show verify restore prune keygen" -s v -l verbose -d 'Say more (repeat for even more)'
complete -c imx -n "__fish_imx_using_subcommand backup; and not __fish_seen_subcommand_from create list show verify restore prune keygen" -l no-color -d 'No colour (also when NO_COLOR is set or output is not a terminal)'
complete -c imx -n "__fish_imx_using_subcommand backup; and not __fish_seen_subcommand_from create list show verify restore prune keygen" -s y -l yes -d 'Answer yes to confirmation prompts (needed for destructive commands in scripts)'
complete -c imx -n "__fish_imx_using_subcommand backup; and not __fish_seen_subcommand_from create list show verify restore prune keygen" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c imx -n "__fish_imx_using_subcommand backup; and not __fish_seen_subcommand_from create list show verify restore prune keygen" -f -a "create" -d 'Take a consistent backup of the store (while agents keep working)'
complete -c imx -n "__fish_imx_using_subcommand backup; and not __fish_seen_subcommand_from create list show verify restore prune keygen" -f -a "list" -d 'List backups, newest first'
complete -c imx -n "__fish_imx_using_subcommand backup; and not __fish_seen_subcommand_from create list show verify restore prune keygen" -f -a "show" -d 'Show a backup\'s manifest: counts per table, schema version, checksum, encryption'
complete -c imx -n "__fish_imx_using_subcommand backup; and not __fish_seen_subcommand_from create list show verify restore prune keygen" -f -a "verify" -d 'Prove a backup restores: checksum, decrypt, decompress, integrity, audit chain, counts'
complete -c imx -n "__fish_imx_using_subcommand backup; and not __fish_seen_subcommand_from create list show verify restore prune keygen" -f -a "restore" -d 'Replace the store (or restore elsewhere) with a backup, atomically'
complete -c imx -n "__fish_imx_using_subcommand backup; and not __fish_seen_subcommand_from create list show verify restore prune keygen" -f -a "prune" -d 'Remove backups a retention policy does not keep'
complete -c imx -n "__fish_imx_using_subcommand backup; and not __fish_seen_subcommand_from create list show verify restore prune keygen" -f -a "keygen" -d 'Write a new random key file for encrypted backups (mode 0600)'
complete -c imx -n "__fish_imx_using_subcommand backup; and __fish_seen_subcommand_from create" -l out -d 'A folder (existing, or ending in /) or a file to write [default: backups/ beside the store]' -r -F
complete -c imx -n "__fish_imx_using_subcommand backup; and __fish_seen_subcommand_from create" -l key-file -d 'Key file (64 hex digits; make one with `imx backup keygen --out FILE`)' -r -F
complete -c imx -n "__fish_imx_using_subcommand backup; and __fish_seen_subcommand_from create" -l keyring -d 'Take the key from this OS keyring entry (not available yet: use --key-file)' -r
complete -c imx -n "__fish_imx_using_subcommand backup; and __fish_seen_subcommand_from create" -l note -d 'A note stored in the manifest (e.g. why the backup was taken)' -r
complete -c imx -n "__fish_imx_using_subcommand backup; and __fish_seen_subcommand_from create" -l format -d 'sqlite: page snapshot (fast). logical: JSONL of every table (portable)' -r -f -a "sqlite\t''
logical\t''"
complete -c imx -n "__fish_imx_using_subcommand backup; and __fish_seen_subcommand_from create" -l level -d 'zstd compression level (1 fast .. 19 small)' -r
complete -c imx -n "__fish_imx_using_subcommand backup; and __fish_seen_subcommand_from create" -l store -d 'The local store (a SQLite file) [default: ~/.local/share/imx/imx.db]' -r -F
complete -c imx -n "__fish_imx_using_subcommand backup; and __fish_seen_subcommand_from create" -s o -l output -d 'Output format for data on stdout' -r -f -a "table\t'Aligned columns for people (short ids, relative times)'
wide\t'The table with more columns (full ids, labels, ...)'
json\t'JSON: the model objects; lists are arrays'
yaml\t'YAML: the same data as JSON'
csv\t'CSV: a header and the table\'s columns (full ids, RFC 3339 times)'
name\t'Bare ids or names, one per line'"
complete -c imx -n "__fish_imx_using_subcommand backup; and __fish_seen_subcommand_from create" -l encrypt -d 'Encrypt the backup (needs --key-file or --passphrase-stdin)'
complete -c imx -n "__fish_imx_using_subcommand backup; and __fish_seen_subcommand_from create" -l passphrase-stdin -d 'Read the passphrase from the first line of standard input'
complete -c imx -n "__fish_imx_using_subcommand backup; and __fish_seen_subcommand_from create" -s q -l quiet -d 'Print only data and errors: no status lines, hints or progress'
complete -c imx -n "__fish_imx_using_subcommand backup; and __fish_seen_subcommand_from create" -s v -l verbose -d 'Say more (repeat for even more)'
complete -c imx -n "__fish_imx_using_subcommand backup; and __fish_seen_subcommand_from create" -l no-color -d 'No colour (also when NO_COLOR is set or output is not a terminal)'
complete -c imx -n "__fish_imx_using_subcommand backup; and __fish_seen_subcommand_from create" -s y -l yes -d 'Answer yes to confirmation prompts (needed for destructive commands in scripts)'
complete -c imx -n "__fish_imx_using_subcommand backup; and __fish_seen_subcommand_from create" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c imx -n "__fish_imx_using_subcommand backup; and __fish_seen_subcommand_from list" -l dir -d 'The backup folder [default: backups/ beside the store]' -r -F
complete -c imx -n "__fish_imx_using_subcommand backup; and __fish_seen_subcommand_from list" -l store -d 'The local store (a SQLite file) [default: ~/.local/share/imx/imx.db]' -r -F
complete -c imx -n "__fish_imx_using_subcommand backup; and __fish_seen_subcommand_from list" -s o -l output -d 'Output format for data on stdout' -r -f -a "table\t'Aligned columns for people (short ids, relative times)'
wide\t'The table with more columns (full ids, labels, ...)'
json\t'JSON: the model objects; lists are arrays'
yaml\t'YAML: the same data as JSON'
csv\t'CSV: a header and the table\'s columns (full ids, RFC 3339 times)'
name\t'Bare ids or names, one per line'"
complete -c imx -n "__fish_imx_using_subcommand backup; and __fish_seen_subcommand_from list" -s q -l quiet -d 'Print only data and errors: no status lines, hints or progress'
complete -c imx -n "__fish_imx_using_subcommand backup; and __fish_seen_subcommand_from list" -s v -l verbose -d 'Say more (repeat for even more)'
complete -c imx -n "__fish_imx_using_subcommand backup; and __fish_seen_subcommand_from list" -l no-color -d 'No colour (also when NO_COLOR is set or output is not a terminal)'
complete -c imx -n "__fish_imx_using_subcommand backup; and __fish_seen_subcommand_from list" -s y -l yes -d 'Answer yes to confirmation prompts (needed for destructive commands in scripts)'
complete -c imx -n "__fish_imx_using_subcommand backup; and __fish_seen_subcommand_from list" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c imx -n "__fish_imx_using_subcommand backup; and __fish_seen_subcommand_from show" -l dir -d 'The backup folder ids are looked up in [default: backups/ beside the store]' -r -F
complete -c imx -n "__fish_imx_using_subcommand backup; and __fish_seen_subcommand_from show" -l store -d 'The local store (a SQLite file) [default: ~/.local/share/imx/imx.db]' -r -F
complete -c imx -n "__fish_imx_using_subcommand backup; and __fish_seen_subcommand_from show" -s o -l output -d 'Output format for data on stdout' -r -f -a "table\t'Aligned columns for people (short ids, relative times)'
wide\t'The table with more columns (full ids, labels, ...)'
json\t'JSON: the model objects; lists are arrays'
yaml\t'YAML: the same data as JSON'
csv\t'CSV: a header and the table\'s columns (full ids, RFC 3339 times)'
name\t'Bare ids or names, one per line'"
complete -c imx -n "__fish_imx_using_subcommand backup; and __fish_seen_subcommand_from show" -s q -l quiet -d 'Print only data and errors: no status lines, hints or progress'
complete -c imx -n "__fish_imx_using_subcommand backup; and __fish_seen_subcommand_from show" -s v -l verbose -d 'Say more (repeat for even more)'
complete -c imx -n "__fish_imx_using_subcommand backup; and __fish_seen_subcommand_from show" -l no-color -d 'No colour (also when NO_COLOR is set or output is not a terminal)'
complete -c imx -n "__fish_imx_using_subcommand backup; and __fish_seen_subcommand_from show" -s y -l yes -d 'Answer yes to confirmation prompts (needed for destructive commands in scripts)'
complete -c imx -n "__fish_imx_using_subcommand backup; and __fish_seen_subcommand_from show" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c imx -n "__fish_imx_using_subcommand backup; and __fish_seen_subcommand_from verify" -l dir -d 'The backup folder ids are looked up in [default: backups/ beside the store]' -r -F
complete -c imx -n "__fish_imx_using_subcommand backup; and __fish_seen_subcommand_from verify" -l key-file -d 'Key file (64 hex digits; make one with `imx backup keygen --out FILE`)' -r -F
complete -c imx -n "__fish_imx_using_subcommand backup; and __fish_seen_subcommand_from verify" -l keyring -d 'Take the key from this OS keyring entry (not available yet: use --key-file)' -r
complete -c imx -n "__fish_imx_using_subcommand backup; and __fish_seen_subcommand_from verify" -l store -d 'The local store (a SQLite file) [default: ~/.local/share/imx/imx.db]' -r -F
complete -c imx -n "__fish_imx_using_subcommand backup; and __fish_seen_subcommand_from verify" -s o -l output -d 'Output format for data on stdout' -r -f -a "table\t'Aligned columns for people (short ids, relative times)'
wide\t'The table with more columns (full ids, labels, ...)'
json\t'JSON: the model objects; lists are arrays'
yaml\t'YAML: the same data as JSON'
csv\t'CSV: a header and the table\'s columns (full ids, RFC 3339 times)'
name\t'Bare ids or names, one per line'"
complete -c imx -n "__fish_imx_using_subcommand backup; and __fish_seen_subcommand_from verify" -l passphrase-stdin -d 'Read the passphrase from the first line of standard input'
complete -c imx -n "__fish_imx_using_subcommand backup; and __fish_seen_subcommand_from verify" -l full-integrity -d 'Run SQLite\'s full integrity_check (also every index entry against its table; about twice the time) instead of quick_check'
complete -c imx -n "__fish_imx_using_subcommand backup; and __fish_seen_subcommand_from verify" -s q -l quiet -d 'Print only data and errors: no status lines, hints or progress'
complete -c imx -n "__fish_imx_using_subcommand backup; and __fish_seen_subcommand_from verify" -s v -l verbose -d 'Say more (repeat for even more)'
complete -c imx -n "__fish_imx_using_subcommand backup; and __fish_seen_subcommand_from verify" -l no-color -d 'No colour (also when NO_COLOR is set or output is not a terminal)'
complete -c imx -n "__fish_imx_using_subcommand backup; and __fish_seen_subcommand_from verify" -s y -l yes -d 'Answer yes to confirmation prompts (needed for destructive commands in scripts)'
complete -c imx -n "__fish_imx_using_subcommand backup; and __fish_seen_subcommand_from verify" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c imx -n "__fish_imx_using_subcommand backup; and __fish_seen_subcommand_from restore" -l to -d 'Restore into this store file instead of the current store' -r -F
complete -c imx -n "__fish_imx_using_subcommand backup; and __fish_seen_subcommand_from restore" -l dir -d 'The backup folder ids are looked up in [default: backups/ beside the store]' -r -F
complete -c imx -n "__fish_imx_using_subcommand backup; and __fish_seen_subcommand_from restore" -l key-file -d 'Key file (64 hex digits; make one with `imx backup keygen --out FILE`)' -r -F
complete -c imx -n "__fish_imx_using_subcommand backup; and __fish_seen_subcommand_from restore" -l keyring -d 'Take the key from this OS keyring entry (not available yet: use --key-file)' -r
complete -c imx -n "__fish_imx_using_subcommand backup; and __fish_seen_subcommand_from restore" -l store -d 'The local store (a SQLite file) [default: ~/.local/share/imx/imx.db]' -r -F
complete -c imx -n "__fish_imx_using_subcommand backup; and __fish_seen_subcommand_from restore" -s o -l output -d 'Output format for data on stdout' -r -f -a "table\t'Aligned columns for people (short ids, relative times)'
wide\t'The table with more columns (full ids, labels, ...)'
json\t'JSON: the model objects; lists are arrays'
yaml\t'YAML: the same data as JSON'
csv\t'CSV: a header and the table\'s columns (full ids, RFC 3339 times)'
name\t'Bare ids or names, one per line'"
complete -c imx -n "__fish_imx_using_subcommand backup; and __fish_seen_subcommand_from restore" -l force -d 'Replace a store that holds data or that another process has open'
complete -c imx -n "__fish_imx_using_subcommand backup; and __fish_seen_subcommand_from restore" -l passphrase-stdin -d 'Read the passphrase from the first line of standard input'
complete -c imx -n "__fish_imx_using_subcommand backup; and __fish_seen_subcommand_from restore" -l full-integrity -d 'Check the restored store with SQLite\'s full integrity_check instead of quick_check'
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
complete -c imx -n "__fish_imx_using_subcommand backup; and __fish_seen_subcommand_from prune" -s o -l output -d 'Output format for data on stdout' -r -f -a "table\t'Aligned columns for people (short ids, relative times)'
wide\t'The table with more columns (full ids, labels, ...)'
json\t'JSON: the model objects; lists are arrays'
yaml\t'YAML: the same data as JSON'
csv\t'CSV: a header and the table\'s columns (full ids, RFC 3339 times)'
name\t'Bare ids or names, one per line'"
complete -c imx -n "__fish_imx_using_subcommand backup; and __fish_seen_subcommand_from prune" -l dry-run -d 'Show what would be removed; remove nothing'
complete -c imx -n "__fish_imx_using_subcommand backup; and __fish_seen_subcommand_from prune" -s q -l quiet -d 'Print only data and errors: no status lines, hints or progress'
complete -c imx -n "__fish_imx_using_subcommand backup; and __fish_seen_subcommand_from prune" -s v -l verbose -d 'Say more (repeat for even more)'
complete -c imx -n "__fish_imx_using_subcommand backup; and __fish_seen_subcommand_from prune" -l no-color -d 'No colour (also when NO_COLOR is set or output is not a terminal)'
complete -c imx -n "__fish_imx_using_subcommand backup; and __fish_seen_subcommand_from prune" -s y -l yes -d 'Answer yes to confirmation prompts (needed for destructive commands in scripts)'
complete -c imx -n "__fish_imx_using_subcommand backup; and __fish_seen_subcommand_from prune" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c imx -n "__fish_imx_using_subcommand backup; and __fish_seen_subcommand_from keygen" -l out -d 'Where to write the key (refuses to overwrite)' -r -F
complete -c imx -n "__fish_imx_using_subcommand backup; and __fish_seen_subcommand_from keygen" -l store -d 'The local store (a SQLite file) [default: ~/.local/share/imx/imx.db]' -r -F
complete -c imx -n "__fish_imx_using_subcommand backup; and __fish_seen_subcommand_from keygen" -s o -l output -d 'Output format for data on stdout' -r -f -a "table\t'Aligned columns for people (short ids, relative times)'
wide\t'The table with more columns (full ids, labels, ...)'
json\t'JSON: the model objects; lists are arrays'
yaml\t'YAML: the same data as JSON'
csv\t'CSV: a header and the table\'s columns (full ids, RFC 3339 times)'
name\t'Bare ids or names, one per line'"
complete -c imx -n "__fish_imx_using_subcommand backup; and __fish_seen_subcommand_from keygen" -s q -l quiet -d 'Print only data and errors: no status lines, hints or progress'
complete -c imx -n "__fish_imx_using_subcommand backup; and __fish_seen_subcommand_from keygen" -s v -l verbose -d 'Say more (repeat for even more)'
complete -c imx -n "__fish_imx_using_subcommand backup; and __fish_seen_subcommand_from keygen" -l no-color -d 'No colour (also when NO_COLOR is set or output is not a terminal)'
complete -c imx -n "__fish_imx_using_subcommand backup; and __fish_seen_subcommand_from keygen" -s y -l yes -d 'Answer yes to confirmation prompts (needed for destructive commands in scripts)'
complete -c imx -n "__fish_imx_using_subcommand backup; and __fish_seen_subcommand_from keygen" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c imx -n "__fish_imx_using_subcommand audit; and not __fish_seen_subcommand_from list show tail verify checkpoint report export prune" -l store -d 'The local store (a SQLite file) [default: ~/.local/share/imx/imx.db]' -r -F
complete -c imx -n "__fish_imx_using_subcommand audit; and not __fish_seen_subcommand_from list show tail verify checkpoint report export prune" -s o -l output -d 'Output format for data on stdout' -r -f -a "table\t'Aligned columns for people (short ids, relative times)'
wide\t'The table with more columns (full ids, labels, ...)'
json\t'JSON: the model objects; lists are arrays'
yaml\t'YAML: the same data as JSON'
csv\t'CSV: a header and the table\'s columns (full ids, RFC 3339 times)'
name\t'Bare ids or names, one per line'"
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
complete -c imx -n "__fish_imx_using_subcommand audit; and __fish_seen_subcommand_from list" -l limit -d 'Show at most this many (the newest); 0 for all' -r
complete -c imx -n "__fish_imx_using_subcommand audit; and __fish_seen_subcommand_from list" -l store -d 'The local store (a SQLite file) [default: ~/.local/share/imx/imx.db]' -r -F
complete -c imx -n "__fish_imx_using_subcommand audit; and __fish_seen_subcommand_from list" -s o -l output -d 'Output format for data on stdout' -r -f -a "table\t'Aligned columns for people (short ids, relative times)'
wide\t'The table with more columns (full ids, labels, ...)'
json\t'JSON: the model objects; lists are arrays'
yaml\t'YAML: the same data as JSON'
csv\t'CSV: a header and the table\'s columns (full ids, RFC 3339 times)'
name\t'Bare ids or names, one per line'"
complete -c imx -n "__fish_imx_using_subcommand audit; and __fish_seen_subcommand_from list" -s q -l quiet -d 'Print only data and errors: no status lines, hints or progress'
complete -c imx -n "__fish_imx_using_subcommand audit; and __fish_seen_subcommand_from list" -s v -l verbose -d 'Say more (repeat for even more)'
complete -c imx -n "__fish_imx_using_subcommand audit; and __fish_seen_subcommand_from list" -l no-color -d 'No colour (also when NO_COLOR is set or output is not a terminal)'
complete -c imx -n "__fish_imx_using_subcommand audit; and __fish_seen_subcommand_from list" -s y -l yes -d 'Answer yes to confirmation prompts (needed for destructive commands in scripts)'
complete -c imx -n "__fish_imx_using_subcommand audit; and __fish_seen_subcommand_from list" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c imx -n "__fish_imx_using_subcommand audit; and __fish_seen_subcommand_from show" -l store -d 'The local store (a SQLite file) [default: ~/.local/share/imx/imx.db]' -r -F
complete -c imx -n "__fish_imx_using_subcommand audit; and __fish_seen_subcommand_from show" -s o -l output -d 'Output format for data on stdout' -r -f -a "table\t'Aligned columns for people (short ids, relative times)'
wide\t'The table with more columns (full ids, labels, ...)'
json\t'JSON: the model objects; lists are arrays'
yaml\t'YAML: the same data as JSON'
csv\t'CSV: a header and the table\'s columns (full ids, RFC 3339 times)'
name\t'Bare ids or names, one per line'"
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
complete -c imx -n "__fish_imx_using_subcommand audit; and __fish_seen_subcommand_from tail" -s o -l output -d 'Output format for data on stdout' -r -f -a "table\t'Aligned columns for people (short ids, relative times)'
wide\t'The table with more columns (full ids, labels, ...)'
json\t'JSON: the model objects; lists are arrays'
yaml\t'YAML: the same data as JSON'
csv\t'CSV: a header and the table\'s columns (full ids, RFC 3339 times)'
name\t'Bare ids or names, one per line'"
complete -c imx -n "__fish_imx_using_subcommand audit; and __fish_seen_subcommand_from tail" -s f -l follow -d 'Keep following new records'
complete -c imx -n "__fish_imx_using_subcommand audit; and __fish_seen_subcommand_from tail" -s q -l quiet -d 'Print only data and errors: no status lines, hints or progress'
complete -c imx -n "__fish_imx_using_subcommand audit; and __fish_seen_subcommand_from tail" -s v -l verbose -d 'Say more (repeat for even more)'
complete -c imx -n "__fish_imx_using_subcommand audit; and __fish_seen_subcommand_from tail" -l no-color -d 'No colour (also when NO_COLOR is set or output is not a terminal)'
complete -c imx -n "__fish_imx_using_subcommand audit; and __fish_seen_subcommand_from tail" -s y -l yes -d 'Answer yes to confirmation prompts (needed for destructive commands in scripts)'
complete -c imx -n "__fish_imx_using_subcommand audit; and __fish_seen_subcommand_from tail" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c imx -n "__fish_imx_using_subcommand audit; and __fish_seen_subcommand_from verify" -l archive -d 'Verify an archive written by `audit prune` instead of the store' -r -F
complete -c imx -n "__fish_imx_using_subcommand audit; and __fish_seen_subcommand_from verify" -l store -d 'The local store (a SQLite file) [default: ~/.local/share/imx/imx.db]' -r -F
complete -c imx -n "__fish_imx_using_subcommand audit; and __fish_seen_subcommand_from verify" -s o -l output -d 'Output format for data on stdout' -r -f -a "table\t'Aligned columns for people (short ids, relative times)'
wide\t'The table with more columns (full ids, labels, ...)'
json\t'JSON: the model objects; lists are arrays'
yaml\t'YAML: the same data as JSON'
csv\t'CSV: a header and the table\'s columns (full ids, RFC 3339 times)'
name\t'Bare ids or names, one per line'"
complete -c imx -n "__fish_imx_using_subcommand audit; and __fish_seen_subcommand_from verify" -s q -l quiet -d 'Print only data and errors: no status lines, hints or progress'
complete -c imx -n "__fish_imx_using_subcommand audit; and __fish_seen_subcommand_from verify" -s v -l verbose -d 'Say more (repeat for even more)'
complete -c imx -n "__fish_imx_using_subcommand audit; and __fish_seen_subcommand_from verify" -l no-color -d 'No colour (also when NO_COLOR is set or output is not a terminal)'
complete -c imx -n "__fish_imx_using_subcommand audit; and __fish_seen_subcommand_from verify" -s y -l yes -d 'Answer yes to confirmation prompts (needed for destructive commands in scripts)'
complete -c imx -n "__fish_imx_using_subcommand audit; and __fish_seen_subcommand_from verify" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c imx -n "__fish_imx_using_subcommand audit; and __fish_seen_subcommand_from checkpoint" -l store -d 'The local store (a SQLite file) [default: ~/.local/share/imx/imx.db]' -r -F
complete -c imx -n "__fish_imx_using_subcommand audit; and __fish_seen_subcommand_from checkpoint" -s o -l output -d 'Output format for data on stdout' -r -f -a "table\t'Aligned columns for people (short ids, relative times)'
wide\t'The table with more columns (full ids, labels, ...)'
json\t'JSON: the model objects; lists are arrays'
yaml\t'YAML: the same data as JSON'
csv\t'CSV: a header and the table\'s columns (full ids, RFC 3339 times)'
name\t'Bare ids or names, one per line'"
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
complete -c imx -n "__fish_imx_using_subcommand audit; and __fish_seen_subcommand_from report" -s o -l output -d 'Output format for data on stdout' -r -f -a "table\t'Aligned columns for people (short ids, relative times)'
wide\t'The table with more columns (full ids, labels, ...)'
json\t'JSON: the model objects; lists are arrays'
yaml\t'YAML: the same data as JSON'
csv\t'CSV: a header and the table\'s columns (full ids, RFC 3339 times)'
name\t'Bare ids or names, one per line'"
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
complete -c imx -n "__fish_imx_using_subcommand audit; and __fish_seen_subcommand_from export" -s o -l output -d 'Output format for data on stdout' -r -f -a "table\t'Aligned columns for people (short ids, relative times)'
wide\t'The table with more columns (full ids, labels, ...)'
json\t'JSON: the model objects; lists are arrays'
yaml\t'YAML: the same data as JSON'
csv\t'CSV: a header and the table\'s columns (full ids, RFC 3339 times)'
name\t'Bare ids or names, one per line'"
complete -c imx -n "__fish_imx_using_subcommand audit; and __fish_seen_subcommand_from export" -s q -l quiet -d 'Print only data and errors: no status lines, hints or progress'
complete -c imx -n "__fish_imx_using_subcommand audit; and __fish_seen_subcommand_from export" -s v -l verbose -d 'Say more (repeat for even more)'
complete -c imx -n "__fish_imx_using_subcommand audit; and __fish_seen_subcommand_from export" -l no-color -d 'No colour (also when NO_COLOR is set or output is not a terminal)'
complete -c imx -n "__fish_imx_using_subcommand audit; and __fish_seen_subcommand_from export" -s y -l yes -d 'Answer yes to confirmation prompts (needed for destructive commands in scripts)'
complete -c imx -n "__fish_imx_using_subcommand audit; and __fish_seen_subcommand_from export" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c imx -n "__fish_imx_using_subcommand audit; and __fish_seen_subcommand_from prune" -l keep -d 'Keep records newer than this (e.g. 365d, 90d)' -r
complete -c imx -n "__fish_imx_using_subcommand audit; and __fish_seen_subcommand_from prune" -l archive-dir -d 'Where to write the archive [default: audit-archive/ beside the store]' -r -F
complete -c imx -n "__fish_imx_using_subcommand audit; and __fish_seen_subcommand_from prune" -l store -d 'The local store (a SQLite file) [default: ~/.local/share/imx/imx.db]' -r -F
complete -c imx -n "__fish_imx_using_subcommand audit; and __fish_seen_subcommand_from prune" -s o -l output -d 'Output format for data on stdout' -r -f -a "table\t'Aligned columns for people (short ids, relative times)'
wide\t'The table with more columns (full ids, labels, ...)'
json\t'JSON: the model objects; lists are arrays'
yaml\t'YAML: the same data as JSON'
csv\t'CSV: a header and the table\'s columns (full ids, RFC 3339 times)'
name\t'Bare ids or names, one per line'"
complete -c imx -n "__fish_imx_using_subcommand audit; and __fish_seen_subcommand_from prune" -l dry-run -d 'Show what would be archived; change nothing'
complete -c imx -n "__fish_imx_using_subcommand audit; and __fish_seen_subcommand_from prune" -s q -l quiet -d 'Print only data and errors: no status lines, hints or progress'
complete -c imx -n "__fish_imx_using_subcommand audit; and __fish_seen_subcommand_from prune" -s v -l verbose -d 'Say more (repeat for even more)'
complete -c imx -n "__fish_imx_using_subcommand audit; and __fish_seen_subcommand_from prune" -l no-color -d 'No colour (also when NO_COLOR is set or output is not a terminal)'
complete -c imx -n "__fish_imx_using_subcommand audit; and __fish_seen_subcommand_from prune" -s y -l yes -d 'Answer yes to confirmation prompts (needed for destructive commands in scripts)'
complete -c imx -n "__fish_imx_using_subcommand audit; and __fish_seen_subcommand_from prune" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c imx -n "__fish_imx_using_subcommand completions" -l store -d 'The local store (a SQLite file) [default: ~/.local/share/imx/imx.db]' -r -F
complete -c imx -n "__fish_imx_using_subcommand completions" -s o -l output -d 'Output format for data on stdout' -r -f -a "table\t'Aligned columns for people (short ids, relative times)'
wide\t'The table with more columns (full ids, labels, ...)'
json\t'JSON: the model objects; lists are arrays'
yaml\t'YAML: the same data as JSON'
csv\t'CSV: a header and the table\'s columns (full ids, RFC 3339 times)'
name\t'Bare ids or names, one per line'"
complete -c imx -n "__fish_imx_using_subcommand completions" -s q -l quiet -d 'Print only data and errors: no status lines, hints or progress'
complete -c imx -n "__fish_imx_using_subcommand completions" -s v -l verbose -d 'Say more (repeat for even more)'
complete -c imx -n "__fish_imx_using_subcommand completions" -l no-color -d 'No colour (also when NO_COLOR is set or output is not a terminal)'
complete -c imx -n "__fish_imx_using_subcommand completions" -s y -l yes -d 'Answer yes to confirmation prompts (needed for destructive commands in scripts)'
complete -c imx -n "__fish_imx_using_subcommand completions" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c imx -n "__fish_imx_using_subcommand man" -l out -d 'Write all pages into this directory (created if missing)' -r -F
complete -c imx -n "__fish_imx_using_subcommand man" -l store -d 'The local store (a SQLite file) [default: ~/.local/share/imx/imx.db]' -r -F
complete -c imx -n "__fish_imx_using_subcommand man" -s o -l output -d 'Output format for data on stdout' -r -f -a "table\t'Aligned columns for people (short ids, relative times)'
wide\t'The table with more columns (full ids, labels, ...)'
json\t'JSON: the model objects; lists are arrays'
yaml\t'YAML: the same data as JSON'
csv\t'CSV: a header and the table\'s columns (full ids, RFC 3339 times)'
name\t'Bare ids or names, one per line'"
complete -c imx -n "__fish_imx_using_subcommand man" -s q -l quiet -d 'Print only data and errors: no status lines, hints or progress'
complete -c imx -n "__fish_imx_using_subcommand man" -s v -l verbose -d 'Say more (repeat for even more)'
complete -c imx -n "__fish_imx_using_subcommand man" -l no-color -d 'No colour (also when NO_COLOR is set or output is not a terminal)'
complete -c imx -n "__fish_imx_using_subcommand man" -s y -l yes -d 'Answer yes to confirmation prompts (needed for destructive commands in scripts)'
complete -c imx -n "__fish_imx_using_subcommand man" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c imx -n "__fish_imx_using_subcommand help" -l store -d 'The local store (a SQLite file) [default: ~/.local/share/imx/imx.db]' -r -F
complete -c imx -n "__fish_imx_using_subcommand help" -s o -l output -d 'Output format for data on stdout' -r -f -a "table\t'Aligned columns for people (short ids, relative times)'
wide\t'The table with more columns (full ids, labels, ...)'
json\t'JSON: the model objects; lists are arrays'
yaml\t'YAML: the same data as JSON'
csv\t'CSV: a header and the table\'s columns (full ids, RFC 3339 times)'
name\t'Bare ids or names, one per line'"
complete -c imx -n "__fish_imx_using_subcommand help" -s q -l quiet -d 'Print only data and errors: no status lines, hints or progress'
complete -c imx -n "__fish_imx_using_subcommand help" -s v -l verbose -d 'Say more (repeat for even more)'
complete -c imx -n "__fish_imx_using_subcommand help" -l no-color -d 'No colour (also when NO_COLOR is set or output is not a terminal)'
complete -c imx -n "__fish_imx_using_subcommand help" -s y -l yes -d 'Answer yes to confirmation prompts (needed for destructive commands in scripts)'
complete -c imx -n "__fish_imx_using_subcommand help" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c imx -n "__fish_imx_using_subcommand demo" -l agents -d 'How many agents to start in this process' -r
complete -c imx -n "__fish_imx_using_subcommand demo" -l store -d 'The local store (a SQLite file) [default: ~/.local/share/imx/imx.db]' -r -F
complete -c imx -n "__fish_imx_using_subcommand demo" -s o -l output -d 'Output format for data on stdout' -r -f -a "table\t'Aligned columns for people (short ids, relative times)'
wide\t'The table with more columns (full ids, labels, ...)'
json\t'JSON: the model objects; lists are arrays'
yaml\t'YAML: the same data as JSON'
csv\t'CSV: a header and the table\'s columns (full ids, RFC 3339 times)'
name\t'Bare ids or names, one per line'"
complete -c imx -n "__fish_imx_using_subcommand demo" -s q -l quiet -d 'Print only data and errors: no status lines, hints or progress'
complete -c imx -n "__fish_imx_using_subcommand demo" -s v -l verbose -d 'Say more (repeat for even more)'
complete -c imx -n "__fish_imx_using_subcommand demo" -l no-color -d 'No colour (also when NO_COLOR is set or output is not a terminal)'
complete -c imx -n "__fish_imx_using_subcommand demo" -s y -l yes -d 'Answer yes to confirmation prompts (needed for destructive commands in scripts)'
complete -c imx -n "__fish_imx_using_subcommand demo" -s h -l help -d 'Print help (see more with \'--help\')'
