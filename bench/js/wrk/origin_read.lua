-- wrk: GET /options/bench-N of the OPTIONS (env) options origin_db.mjs stored.
local options = tonumber(os.getenv("OPTIONS") or "1000")
wrk.headers["Authorization"] = "Bearer " .. (os.getenv("ORIGIN_TOKEN") or "")

request = function()
  return wrk.format("GET", "/options/bench-" .. math.random(0, options - 1))
end
