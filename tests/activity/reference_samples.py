"""The Activity API reference's example command lines and sample answers (activity-api.txt),
copied verbatim: CI cannot read the reference. The users sample keeps its trailing comma
(`789,`), the reference's typo, dropped when parsed; the status sample, which lacks a closing
quote, is written as a dict."""

from __future__ import annotations

# GET users, groups, forms.
GET_USERS = """curl -H "Content-Type: application/json" -H "Auth-Api-Token: 12345678-1234-1234-1234-123456789" -X GET https://api.lexer.io/v1/users"""  # noqa: E501
USER_SAMPLE = """
  {
    "id": 12345,
    "email": "jane@business.io",
    "first_name": "Jane",
    "last_name": "Remington",
    "timezone": "Australia/Sydney",
    "gmtoffset": 10,
    "sign_in_count": 76,
    "last_sign_in_at": "2018-03-21T06:09:01Z",
    "archived": false,
    "groups": [
      123,
      456,
      789,
    ]
  }
"""
GET_GROUPS = """curl -H "Content-Type: application/json" -H "Auth-Api-Token: 12345678-1234-1234-1234-123456789" -X GET https://api.lexer.io/v1/groups"""  # noqa: E501
GROUP_SAMPLE = """
  {
    "id": 123,
    "name": "Social Customer Care",
    "comment": "Social customer care team members"
  }
"""
GET_FORMS = """curl -H "Content-Type: application/json" -H "Auth-Api-Token: 12345678-1234-1234-1234-123456789" -X GET https://api.lexer.io/v1/forms"""  # noqa: E501
FORM_SAMPLE = """
  {
    "id": 55,
    "name": "NPS Survey",
    "title": "Lexer NPS Survey",
    "archived": false,
    "created_at": "2018-05-26T21:54:19Z",
    "groups": [
      123
    ],
    "nps": false,
    "form_url": "https://d1z1wrkt4y2iqm.cloudfront.net/123455678899876543/1/form"
  }
"""


def report_command(kind: str, extra: str = "") -> str:
    """The reference's report command line for `kind` (each example is this line with its
    type; the NPS ones add `"form": 123, "nps_category": "all"`)."""
    return (
        'curl -H "Content-Type: application/json" -H "Auth-Api-Token: '
        "12345678-1234-1234-1234-123456789\" https://api.lexer.io/v1/activity/reports -d ' "
        f'{{ "type": "{kind}", "date_from": "2018-04-01T00:00:00+11:00", "date_to": '
        f'"2018-04-30T23:59:59+11:00"{extra} }}\''
    )


NPS_EXTRA = ', "form": 123, "nps_category": "all"'

SUMMARY_SAMPLE = """
{
  "total_volume": 81,
  "avg_response_time": 181795.692883103,
  "avg_action_response_time": 167207.984987586,
  "total_responded_to": 29,
  "broke_sla": 11,
  "broke_action_sla": 10,
  "min_response_time": 34.090906,
  "median_response_time": 649.951914,
  "max_response_time": 1387160.862218,
  "min_action_response_time": 5.63089,
  "median_action_response_time": 96.865511,
  "max_action_response_time": 1387064.010109,
  "avg_action_response_time_min": 2786.7997497931,
  "avg_response_time_min": 3029.9282147183835,
  "median_action_response_time_min": 1.6144251833333334,
  "median_response_time_min": 10.8325319
}
"""
STATES_VOLUME_SAMPLE = """
{
  "closed": [
    {"state": "closed", "value": 174, "date_range": {"date_from": "2018-04-27 00:00"}},
    {"state": "closed", "value": 234, "date_range": {"date_from": "2018-04-28 00:00"}},
    {"state": "closed", "value": 255, "date_range": {"date_from": "2018-04-29 00:00"}},
    {"state": "closed", "value": 108, "date_range": {"date_from": "2018-04-30 00:00"}}
  ]
}
"""
STATES_SAMPLE = """
[
  {"state": "closed", "volume": 92},
  {"state": "responded", "volume": 49},
  {"state": "assigned", "volume": 26},
  {"state": "in_progress", "volume": 13},
  {"state": "duplicate", "volume": 4},
  {"state": "awaiting_approval", "volume": 1}
]
"""
CLASSIFICATIONS_SAMPLE = """
[
  {"classification_id": 123, "classification": "amusing", "state": "assigned", "volume": 2},
  {"classification_id": 123, "classification": "amusing", "state": "all_states", "volume": 3},
  {"classification_id": 123, "classification": "amusing", "state": "closed", "volume": 1},
  {"classification_id": 143, "classification": "customer service", "state": "responded",
   "volume": 1},
  {"classification_id": 143, "classification": "customer service", "state": "all_states",
   "volume": 1}
]
"""
RESPONSE_VOLUME_SAMPLE = """
{
  "avg_response_time": [

    {"value": 317691.388907962, "date_range": {"date_from": "2018-06-05 00:00"}},
    {"value": 31159.3797606667, "date_range": {"date_from": "2018-06-06 00:00"}},
    {"value": 69850.8753626667, "date_range": {"date_from": "2018-06-07 00:00"}},
    {"value": 10661.255474, "date_range": {"date_from": "2018-06-08 00:00"}}
  ]
}
"""
USER_SUMMARY_SAMPLE = """
[
  {
    "first_name": "Jane",
    "last_name": "Pear",
    "mentions_assigned": 12,
    "user_id": "123",
    "responded_to": 9,
    "responded_to_in_private": 6,
    "avg_response_time": 17053.3492157778,
    "min_response_time": 56.983366,
    "max_response_time": 84664.420214,
    "avg_action_response_time": 278.770835555556,
    "min_action_response_time": 7.767898,
    "max_action_response_time": 2261.353394,
    "total_responded_to": 9,
    "broke_sla": 3,
    "broke_action_sla": 0,
    "avg_response_time_min": 284.22248692962995,
    "avg_action_response_time_min": 4.6461805925926,
    "fraction_responded_to": 0.75,
    "fraction_responded_to_in_private": 0.6666666666666666,
    "fraction_broke_sla": 0.3333333333333333,
    "fraction_broke_action_sla": 0.0
  }
]
"""
USER_VOLUME_SAMPLE = """
[
  {
    "user_id": 123,
    "first_name": "Jane",
    "last_name": "Pear",
    "states": {
      "all_states": 166,
      "all_closed_states": 110,
      "new": 0,
      "assigned": 15,
      "in_progress": 14,
      "responded": 27,
      "awaiting_approval": 0,
      "redirected": 0,
      "irrelevant": 0,
      "duplicate": 0,
      "closed": 110,
      "no_response_required": 0
    }
  }
]
"""
CASE_SUMMARY_SAMPLE = """
{
  "total_cases": 10,
  "first_reply_time": 305511.915624,
  "resolution_time": 427361.668069,
  "median_first_reply_time": 83991.86431,
  "median_resolution_time": 310362.299289,
  "agent_interactions": 2.4,
  "agents_involved": 1.0
}
"""
CASE_VOLUME_SAMPLE = """
{
  "open": [
    {"value": 9, "date_range": {"date_from": "2018-04-01 00:00"}},
    {"value": 10, "date_range": {"date_from": "2018-04-06 00:00"}}
  ]
}
"""
CASE_CLASSIFICATIONS_SAMPLE = """
[
  {"classification_id": 466, "classification": "positive", "volume": 1},
  {"classification_id": 526, "classification": "social nps", "volume": 1}
]
"""
NPS_SUMMARY_SAMPLE = """
{
  "total_sent": 16,
  "total_received": 12,
  "total_promoters": 9,
  "total_passives": 1,
  "total_detractors": 2,
  "nps_score": 58.333333333333336
}
"""
NPS_VOLUME_SAMPLE = """
[
  {
    "date": "2018-04-01T13:00:00+00:00",
    "timestamp": 1522587600,
    "data": {
      "total_sent": 0,
      "total_received": 0,
      "total_promoters": 0,
      "total_passives": 0,
      "total_detractors": 0,
      "nps_score": 0.0
    }
  }
]
"""
# The export's three steps.
EXPORT_COMMAND = """curl -H "Content-Type: application/json" -H "Auth-Api-Token: 12345678-1234-1234-1234-123456789" https://api.lexer.io/v1/activity/reports -d ' { "type": "mention_sla_export", "date_from": "2019-06-15T00:00:00+11:00", "date_to": "2019-06-30T23:59:59+11:00" }'"""  # noqa: E501
EXPORT_SAMPLE = """{ "status": "pending", "url": null, "token": "<report_token>" }"""
STATUS_COMMAND = """curl -G -H 'Auth-Api-Token: 12345678-1234-1234-1234-123456789' 'https://clients.lexer.io/api/public/v1/activity/reports/status?token=<report_token>'"""
STATUS_SAMPLE = {"status": "complete", "url": "<CSV File Location>", "token": "<report_token>"}
DOWNLOAD_COMMAND = "curl <CSV File Location>"
