"""Bots that play a seat over the same WebSocket protocol as people.

`seat`: one bot's connection (hello, the latest view, commands matched to their answers); `delegation` and
`facilitator`: what the two kinds of bot decide; `game`: a whole game of bots (`wargame demo`); `tables`: the bots
the server seats at the tables nobody in the room plays.  A refusal is logged and recorded, never raised: the bot
carries on with the next thing.
"""
