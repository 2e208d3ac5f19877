"""carebase beside the helpdesk: the compact profile embedded in Zendesk and Chatwoot.

`zendesk` verifies the JWT of Zendesk's signed URLs and builds the app package; `grants`
signs the read-only grant a verified helpdesk request leaves in the browser; `lookup`
finds and condenses the profile a helpdesk's customer context names. The pages are in
`carebase.web.pages.embed*`.
"""
