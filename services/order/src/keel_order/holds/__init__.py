"""Holds: the exception queue, where the holds that stop an order wait for a person, and their
resolution (DESIGN §2), with the rooms every service uses: `schemas` (HTTP models), `repository`
(the queue's queries), `service` (the use cases) and `api` (the routes, `/v1/exceptions` and
`/v1/orders/{order_id}/holds/{hold_id}/resolve`).

Holds are opened by the intake and the saga (keel_order.lifecycle); this area lists and closes them.
"""
