from django.urls import path

from hemei.disclosure import views, views_board, views_finance

urlpatterns = [
    path("w/disclosure/", views.disclosure_list, name="disclosure-list"),
    path("w/disclosure/new/", views.disclosure_new, name="disclosure-new"),
    path("w/disclosure/review/", views.review_queue, name="disclosure-review-queue"),
    path("w/disclosure/schedule/", views.schedule_view, name="disclosure-schedule"),
    path("w/disclosure/attachment/<int:pk>/", views.attachment_download, name="disclosure-attachment"),
    path("w/disclosure/<int:pk>/", views.disclosure_detail, name="disclosure-detail"),
    path("w/disclosure/<int:pk>/edit/", views.disclosure_edit, name="disclosure-edit"),
    path("w/disclosure/<int:pk>/submit/", views.disclosure_submit, name="disclosure-submit"),
    path("w/disclosure/<int:pk>/review/", views.disclosure_review, name="disclosure-review"),
    path("w/disclosure/<int:pk>/publish/", views.disclosure_publish, name="disclosure-publish"),
    path("w/disclosure/<int:pk>/correct/", views.disclosure_correct, name="disclosure-correct"),
    path("w/finance/", views_finance.finance_list, name="finance-list"),
    path("w/finance/import/", views_finance.finance_import_view, name="finance-import"),
    path("w/finance/export.xlsx", views_finance.finance_export_view, name="finance-export"),
    path("w/finance/statement/", views_finance.statement_view, name="finance-statement"),
    path("v/<str:code>/", views_board.village_board, name="village-board"),
    path("v/<str:code>/print/", views_board.board_print, name="village-board-print"),
    path("v/<str:code>/files/<int:pk>/", views_board.board_attachment, name="village-board-file"),
    # Last: the other apps' own public pages under /v/<code>/ (meetings, points print, …) come first.
    path("v/<str:code>/<slug:section>/", views_board.board_section_page, name="village-board-section"),
]
