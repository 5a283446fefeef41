-- Drive Neovim's built-in LSP client (headless): open a file, start dumpscript's server,
-- put the cursor somewhere, run the code action whose title starts with DS_PREFIX, save.
-- Parameters come from the environment; a report goes to DS_REPORT (one line per fact).
local file = os.getenv("DS_FILE")
local line = tonumber(os.getenv("DS_LINE"))
local col = tonumber(os.getenv("DS_COL") or "0")
local prefix = os.getenv("DS_PREFIX")
local report = io.open(os.getenv("DS_REPORT"), "w")

local function say(text)
  report:write(text .. "\n")
  report:flush()
end

vim.cmd("edit " .. vim.fn.fnameescape(file))
local bufnr = vim.api.nvim_get_current_buf()
local client_id = vim.lsp.start_client({
  name = "dumpscript",
  cmd = { os.getenv("DS_PYTHON"), "-m", "dumpscript_lsp" },
  root_dir = os.getenv("DS_ROOT"),
})
vim.lsp.buf_attach_client(bufnr, client_id)
local ready = vim.wait(30000, function()
  local client = vim.lsp.get_client_by_id(client_id)
  return client ~= nil and client.server_capabilities ~= nil and next(client.server_capabilities) ~= nil
end, 50)
say("initialized " .. tostring(ready))

vim.api.nvim_win_set_cursor(0, { line, col })
local tick = vim.api.nvim_buf_get_changedtick(bufnr)
local chosen = nil
vim.ui.select = function(items, opts, on_choice)
  for index, item in ipairs(items) do
    local action = item[2] or item.action or item
    say("offered " .. action.title)
    if chosen == nil and action.title:sub(1, #prefix) == prefix then
      chosen = index
    end
  end
  if chosen then
    say("chose " .. (items[chosen][2] or items[chosen].action or items[chosen]).title)
    on_choice(items[chosen], chosen)
  else
    on_choice(nil, nil)
  end
end
vim.lsp.buf.code_action()
local changed = vim.wait(30000, function()
  return vim.api.nvim_buf_get_changedtick(bufnr) ~= tick
end, 50)
say("changed " .. tostring(changed))
vim.cmd("write")
say("saved")
report:close()
vim.lsp.stop_client(client_id)
vim.wait(2000, function() return vim.lsp.get_client_by_id(client_id) == nil end, 50)
vim.cmd("qa!")
