-- get-draft.lua: GET of a question page by respondents who have just
-- started (B1: each request carries the pcs_draft cookie of one of a pool of
-- fresh, empty drafts made by bench.py, taken in turn).  Requests are built
-- once in init(), so request() costs a table lookup.
--   wrk -t2 -cN -dS -s get-draft.lua URL -- /f/F/p/PAGE cookies.txt
dofile("report.lua")

local threads = {}
local reqs = {}
local n, i = 0, 0

function setup(thread)
	table.insert(threads, thread)
	thread:set("tid", #threads)
end

function init(args)
	local path, file = args[1], args[2]

	for line in io.lines(file) do
		if line ~= "" then
			n = n + 1
			reqs[n] = wrk.format("GET", path, { ["Cookie"] = "pcs_draft=" .. line })
		end
	end
	i = ((tid or 1) * 7919) % n	-- threads start at different drafts
end

function request()
	i = i % n + 1
	return reqs[i]
end

function done(summary, latency, requests)
	bench_report(summary, latency)
end
