-- wrk: PUT /options/write-N over 10,000 names, each a new version.
wrk.headers["Authorization"] = "Bearer " .. (os.getenv("ORIGIN_TOKEN") or "")
wrk.headers["Content-Type"] = "application/json"
local n = 0

request = function()
  n = n + 1
  return wrk.format("PUT", "/options/write-" .. math.random(0, 9999), nil, '{"value":' .. n .. '}')
end
