-- flow.lua: B2 of perf.md, full respondents of the staff-wellbeing form, as
-- a browser without JavaScript makes them:
--   1 GET  /f/F                      start page: parse the signed csrf field
--   2 POST /f/F/start                303 + Set-Cookie pcs_draft (a new draft)
--   3 GET  /f/F/p/before-you-start   parse the draft's csrf field
--   4 POST /f/F/p/before-you-start   consent          303 -> about-your-work
--   5 POST /f/F/p/about-your-work    role, icb, ...   303 -> support
--   6 POST /f/F/p/support            choices, scale   303 -> how-work-feels
--   7 GET  /f/F/check                200
--   8 POST /f/F/submit               303 -> done: the acknowledgement
-- then the next respondent.  Anything else (status, missing field, wrong
-- Location) counts as an error of that step and starts a new respondent.
--
-- wrk 4.1 tells a script neither which connection a response came on nor
-- which request it answers, so a respondent's state cannot be shared by
-- several connections of one thread: run it with as many threads as
-- connections (wrk -tN -cN), each thread then carries one respondent at a
-- time, strictly request, response, request.
--   wrk -tN -cN -dS -s flow.lua http://127.0.0.1:8380 -- staff-wellbeing answers.txt
-- answers.txt: lines "icb CODE" and "role CODE" (bench.py writes them from
-- pcs.icb / pcs.staff_role).
dofile("report.lua")

local threads = {}
local base, step = nil, 1
local csrf_pub, cookie, csrf, cookie_hdr
local icbs, roles = {}, {}
local form_hdr = { ["Content-Type"] = "application/x-www-form-urlencoded" }

-- per-thread counters, read by done() through thread:get()
acks, submits, respondents, errors = 0, 0, 0, 0
err1, err2, err3, err4, err5, err6, err7, err8 = 0, 0, 0, 0, 0, 0, 0, 0
last_bad = ""

local settings = { "gp_practice", "pcn", "community_pharmacy", "dental_practice",
	"optometry_practice", "gp_federation", "urgent_care" }
local years = { "under_1", "1_to_3", "3_to_5", "5_to_10", "10_plus" }
local arrs = { "yes", "no", "not_sure" }
local offered = { "eap", "practitioner_health", "occupational_health", "wellbeing_hub",
	"schwartz_rounds", "peer_support", "clinical_supervision", "mentoring_coaching",
	"napc_care", "protected_learning", "flexible_working", "physical_health",
	"financial_wellbeing", "wellbeing_conversations" }
local providers = { "employer", "pcn", "icb", "nhse", "professional_body", "lmc", "charity" }

function setup(thread)
	table.insert(threads, thread)
	thread:set("tid", #threads)
end

function init(args)
	base = "/f/" .. args[1]
	for line in io.lines(args[2]) do
		local k, v = line:match("^(%S+)%s+(%S+)$")
		if k == "icb" then
			icbs[#icbs + 1] = v
		elseif k == "role" then
			roles[#roles + 1] = v
		end
	end
	math.randomseed((tid or 1) * 7919 + os.time())
end

local function pick(t)
	return t[math.random(#t)]
end

local function post(path, body)
	local h = { ["Content-Type"] = form_hdr["Content-Type"], ["Cookie"] = cookie_hdr }

	return wrk.format("POST", base .. path, h, "csrf=" .. csrf .. "&" .. body)
end

local function some(t, p)
	local out = {}

	for _, v in ipairs(t) do
		if math.random() < p then
			out[#out + 1] = v
		end
	end
	if #out == 0 then
		out[1] = pick(t)
	end
	return out
end

local function body_work()
	return "role=" .. pick(roles) .. "&icb=" .. pick(icbs) .. "&work_setting=" ..
	    pick(settings) .. "&arrs_funded=" .. pick(arrs) .. "&years_in_role=" ..
	    pick(years) .. "&hours_per_week=" .. math.random(8, 60) .. "&action=continue"
end

local function body_support()
	local b = {}

	for _, v in ipairs(some(offered, 0.25)) do
		b[#b + 1] = "offered=" .. v
	end
	for _, v in ipairs(some(providers, 0.3)) do
		b[#b + 1] = "providers=" .. v
	end
	for _, s in ipairs({ "know_what", "easy_to_access", "time_to_use", "confidential" }) do
		b[#b + 1] = "access__" .. s .. "=" .. math.random(1, 5)
	end
	b[#b + 1] = "action=continue"
	return table.concat(b, "&")
end

function request()
	if step == 1 then
		return wrk.format("GET", base)
	elseif step == 2 then
		return wrk.format("POST", base .. "/start", form_hdr, "csrf=" .. csrf_pub)
	elseif step == 3 then
		return wrk.format("GET", base .. "/p/before-you-start", { ["Cookie"] = cookie_hdr })
	elseif step == 4 then
		return post("/p/before-you-start", "consent=yes&action=continue")
	elseif step == 5 then
		return post("/p/about-your-work", body_work())
	elseif step == 6 then
		return post("/p/support", body_support())
	elseif step == 7 then
		return wrk.format("GET", base .. "/check", { ["Cookie"] = cookie_hdr })
	else
		submits = submits + 1
		return post("/submit", "action=submit")
	end
end

local function location(headers)
	return headers["Location"] or headers["location"] or ""
end

local function redirected(status, headers, tail)
	local l = location(headers)

	return status == 303 and l:sub(-#tail) == tail
end

function response(status, headers, body)
	local ok = false

	if step == 1 then
		csrf_pub = status == 200 and body:match('name="csrf" value="(%x+)"')
		ok = csrf_pub ~= nil and csrf_pub ~= false
	elseif step == 2 then
		local sc = headers["Set-Cookie"] or headers["set-cookie"] or ""

		cookie = status == 303 and sc:match("pcs_draft=([^;]+)")
		ok = cookie ~= nil and cookie ~= false
		if ok then
			cookie_hdr = "pcs_draft=" .. cookie
			respondents = respondents + 1
		end
	elseif step == 3 then
		csrf = status == 200 and body:match('name="csrf" value="(%x+)"')
		ok = csrf ~= nil and csrf ~= false
	elseif step == 4 then
		ok = redirected(status, headers, "/p/about-your-work")
	elseif step == 5 then
		ok = redirected(status, headers, "/p/support")
	elseif step == 6 then
		ok = redirected(status, headers, "/p/how-work-feels")
	elseif step == 7 then
		ok = status == 200
	else
		ok = redirected(status, headers, "/done")
		if ok then
			acks = acks + 1
		end
	end
	if ok then
		step = step % 8 + 1
	else
		errors = errors + 1
		_G["err" .. step] = _G["err" .. step] + 1
		last_bad = string.format("step%d:%d", step, status)
		step = 1
	end
end

function done(summary, latency, requests)
	local t = { acks = 0, submits = 0, respondents = 0, errors = 0 }
	local steps = {}
	local bad = ""

	for _, th in ipairs(threads) do
		for k, _ in pairs(t) do
			t[k] = t[k] + th:get(k)
		end
		for s = 1, 8 do
			steps[s] = (steps[s] or 0) + th:get("err" .. s)
		end
		if th:get("last_bad") ~= "" then
			bad = th:get("last_bad")
		end
	end
	bench_report(summary, latency, string.format(
	    " flow_acks=%d flow_submits=%d flow_started=%d flow_errors=%d flow_err_steps=%s flow_last_bad=%s",
	    t.acks, t.submits, t.respondents, t.errors, table.concat(steps, ","),
	    bad ~= "" and bad or "-"))
end
