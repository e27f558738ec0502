# What an SSH host of the `hosts` option may be (used by `parse_hosts`,
# julia/parallel/processes.jl): `[user@]host` with a user and host of
# letters, digits, '.', '-' and '_', not beginning with '-', which `ssh`
# would read as an option (`-oProxyCommand=...`). Python refuses the same
# when the option is validated (keplersr.options.engine_message); this is
# the check for every other client of the worker.

"""Why `name` (a host or user name; `what` says which) is refused, or `nothing`."""
function name_problem(name::AbstractString, what::AbstractString)::Union{Nothing,String}
    isempty(name) && return "the $(what) is empty"
    startswith(name, '-') && return "the $(what) $(repr(name)) begins with '-' (ssh would read it as an option)"
    any(isspace, name) && return "the $(what) $(repr(name)) contains whitespace"
    any(iscntrl, name) && return "the $(what) $(repr(name)) contains a control character"
    bad = sort!(unique([c for c in name if !(isascii(c) && (isletter(c) || isdigit(c) || c in ".-_"))]))
    isempty(bad) || return "the $(what) $(repr(name)) contains $(repr(String(bad))); host and user names " *
                           "may use letters, digits, '.', '-' and '_'"
    return nothing
end

"""Why `address` (`host` or `user@host`, without `:n` or `:port`) is refused as an SSH host, or `nothing`."""
function host_problem(address::AbstractString)::Union{Nothing,String}
    at = findlast('@', address)
    at === nothing && return name_problem(address, "host")
    user = address[1:prevind(address, at)]
    occursin('@', user) && return "$(repr(address)) has more than one '@'"
    p = name_problem(user, "user")
    p === nothing || return p
    return name_problem(address[nextind(address, at):end], "host")
end

"""Why the machine-file word `word` (`[user@]host[:port]`; `bind`: a bind address, no user) is refused, or `nothing`."""
function machine_word_problem(word::AbstractString; bind::Bool=false)::Union{Nothing,String}
    parts = split(word, ':'; limit=2)
    p = bind ? name_problem(parts[1], "bind address") : host_problem(parts[1])
    p === nothing || return p
    if length(parts) == 2
        port = tryparse(Int, parts[2])
        (port === nothing || !all(isdigit, parts[2]) || !(1 <= port <= 65535)) &&
            return "the port after ':' in $(repr(word)) must be an integer from 1 to 65535"
    end
    return nothing
end
