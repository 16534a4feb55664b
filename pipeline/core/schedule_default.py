"""The built-in retention schedule, modelled on the national schedule for common administrative records
(Circular 10/2022/TT-BNV, "Thời hạn bảo quản tài liệu hình thành phổ biến"). It is a starting point: an
agency copies it to its own TOML file, adjusts it to its approved list (Danh mục hồ sơ) and points
``retention.schedule_file`` at it. Periods are in years or ``permanent`` (vĩnh viễn)."""

DEFAULT_SCHEDULE = """
version = "TT10-2022-common-1"

[default]
code = "0"
name = "Chưa phân loại: xem xét lại sau 10 năm"
period = 10
action = "review"

[[class]]
code = "1.1"
name = "Nghị quyết, quyết định, chỉ thị, quy chế, quy định của cơ quan"
doc_types = ["Nghị quyết", "Quyết định", "Chỉ thị", "Quy chế", "Quy định"]
period = "permanent"
action = "transfer"

[[class]]
code = "1.2"
name = "Kế hoạch, báo cáo tổng kết năm"
doc_types = ["Kế hoạch", "Báo cáo"]
keywords = ["tổng kết", "hằng năm", "cả năm", "nhiệm kỳ"]
period = "permanent"
action = "transfer"

[[class]]
code = "1.3"
name = "Kế hoạch, báo cáo công tác tháng, quý, 6 tháng"
doc_types = ["Kế hoạch", "Báo cáo"]
period = 10
action = "destroy"

[[class]]
code = "1.4"
name = "Tờ trình, đề án, chương trình công tác"
doc_types = ["Tờ trình", "Đề án", "Chương trình"]
period = 20
action = "review"

[[class]]
code = "1.5"
name = "Công văn trao đổi về nghiệp vụ"
doc_types = ["Công văn"]
period = 10
action = "destroy"

[[class]]
code = "1.6"
name = "Thông báo, thông cáo"
doc_types = ["Thông báo", "Thông cáo"]
period = 10
action = "destroy"

[[class]]
code = "1.7"
name = "Giấy mời, giấy giới thiệu, phiếu gửi"
doc_types = ["Giấy mời", "Giấy giới thiệu", "Phiếu gửi"]
period = 5
action = "destroy"

[[class]]
code = "1.8"
name = "Hợp đồng, biên bản"
doc_types = ["Hợp đồng", "Biên bản"]
period = 20
action = "review"

[[class]]
code = "1.9"
name = "Hồ sơ nhân sự, lý lịch"
doc_types = ["Lý lịch", "Hồ sơ nhân sự"]
period = 70
action = "review"
"""
