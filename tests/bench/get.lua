-- get.lua: GET of the URL's path, the same request every time, no cookie
-- (B1 start page; B1a static copy; B1b "ok" responder).  No request() or
-- response() here, so wrk sends a pre-built request and does not copy bodies
-- into Lua: the load generator costs the same for the app and its baselines.
--   wrk -t2 -cN -dS -s get.lua http://127.0.0.1:8380/f/staff-wellbeing
dofile("report.lua")

function done(summary, latency, requests)
	bench_report(summary, latency)
end
